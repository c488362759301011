#!/usr/bin/perl
# Prints what prove's own parser (TAP::Parser and its YAMLish reader) reads
# back from the diagnostics of a TAP file, one value a line, hex-encoded:
#   TESTNUM KEY HEX
# where KEY is stdout, stderr, message or error.N.  Used to check that
# cst's YAML round-trips through the YAML reader harnesses actually use.
use strict;
use warnings;
use TAP::Parser;

my $file = shift or die "usage: $0 FILE.tap\n";
open my $fh, '<:raw', $file or die "$file: $!\n";
my $tap = do { local $/; <$fh> };
close $fh;
# See check-tap.sh: older harnesses stop at the version line alone.

my $parser = TAP::Parser->new({ tap => $tap });
my $test = 0;
while (my $r = $parser->next) {
	if ($r->is_test) {
		$test = $r->number;
	} elsif ($r->is_yaml) {
		my $data = $r->data;
		for my $key (qw(message stdout stderr)) {
			printf "%d %s %s\n", $test, $key, unpack('H*', $data->{$key}) if defined $data->{$key};
		}
		my $i = 0;
		printf "%d error.%d %s\n", $test, $i++, unpack('H*', $_) for @{ $data->{errors} || [] };
	}
}
my @errors = $parser->parse_errors;
print STDERR "parse error: $_\n" for @errors;
exit(@errors ? 1 : 0);
