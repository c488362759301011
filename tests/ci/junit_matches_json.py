#!/usr/bin/env python3
"""junit_matches_json.py JUNIT_XML REPORT_JSON SUITE_NAME CLASSNAME...

Checks that what junitparser reads from cst's JUnit file says the same as
cst's JSON report of the same run: the counts, each test case's name, its
verdict and its failure messages (one <failure> per error, the message
attribute and the text both equal to the error), in run order, and the
suite name.  CLASSNAMEs are the config files the results came from, one
per result in order.  Prints each difference; exits 1 if there is one.
"""
import json
import sys

from junitparser import Failure, JUnitXml


def main(junit_path, json_path, suite_name, classnames):
    with open(json_path, encoding="utf-8") as f:
        rep = json.load(f)
    xml = JUnitXml.fromfile(junit_path)
    problems = []

    suites = list(xml)
    if len(suites) != 1:
        problems.append(f"{len(suites)} test suites, want 1")
    cases = [c for s in suites for c in s]
    for s in suites:
        if s.name != suite_name:
            problems.append(f"suite name {s.name!r}, want {suite_name!r}")
        if (s.tests, s.failures, s.errors) != (rep["Total"], rep["Fail"], 0):
            problems.append(f"suite counts tests={s.tests} failures={s.failures} errors={s.errors}, "
                            f"JSON says Total={rep['Total']} Fail={rep['Fail']}")
    # A consumer that counts the cases itself must get the header's numbers.
    # (junitparser's update_statistics counts <failure> elements, not failed
    # cases, so it is not used: a case may carry several.)
    n_failed = sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result))
    if (len(cases), n_failed) != (rep["Total"], rep["Fail"]):
        problems.append(f"cases add up to tests={len(cases)} failed={n_failed}, "
                        f"JSON says Total={rep['Total']} Fail={rep['Fail']}")

    results = rep.get("Results", [])
    if len(cases) != len(results):
        problems.append(f"{len(cases)} test cases, JSON has {len(results)} results")
    if classnames and len(classnames) != len(cases):
        problems.append(f"{len(cases)} test cases, {len(classnames)} class names given")
    for i, (case, res) in enumerate(zip(cases, results)):
        if case.name != res["Name"]:
            problems.append(f"case {i}: name {case.name!r}, JSON {res['Name']!r}")
        if case.is_passed != res["Pass"]:
            problems.append(f"case {i} {case.name!r}: passed={case.is_passed}, JSON Pass={res['Pass']}")
        failures = [r for r in case.result if isinstance(r, Failure)]
        errors = res.get("Errors", [])
        if [f.message for f in failures] != errors:
            problems.append(f"case {i} {case.name!r}: failure messages {[f.message for f in failures]}, "
                            f"JSON Errors {errors}")
        if [f.text for f in failures] != errors:
            problems.append(f"case {i} {case.name!r}: failure texts {[f.text for f in failures]}, "
                            f"JSON Errors {errors}")
        if classnames and i < len(classnames) and case.classname != classnames[i]:
            problems.append(f"case {i} {case.name!r}: classname {case.classname!r}, want {classnames[i]!r}")
        if case.time is None or case.time < 0:
            problems.append(f"case {i} {case.name!r}: no time")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
