#!/usr/bin/env python3
"""Reads a JUnit XML file the way CI servers' plugins do, with junitparser,
and prints what such a consumer sees as one JSON object:

  {"tests": N, "failures": N, "errors": N, "skipped": N,
   "suites": [{"name", "tests", "failures", "errors", "skipped"}],
   "cases": [{"name", "classname", "passed", "failures": [message...],
              "failure_texts": [...], "system_out", "system_err"}]}

The suite counts are the ones written in the file; the top-level counts
are recomputed by junitparser from the test cases, so a file whose counts
disagree with its cases shows up as a difference between the two.
"""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped


def main(path):
    xml = JUnitXml.fromfile(path)
    suites, cases = [], []
    counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in xml:
        suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                       "errors": suite.errors, "skipped": suite.skipped})
        for case in suite:
            results = list(case.result)
            failures = [r for r in results if isinstance(r, Failure)]
            counted["tests"] += 1
            counted["failures"] += 1 if failures else 0
            counted["errors"] += 1 if any(isinstance(r, Error) for r in results) else 0
            counted["skipped"] += 1 if any(isinstance(r, Skipped) for r in results) else 0
            cases.append({
                "name": case.name,
                "classname": case.classname,
                "passed": case.is_passed,
                "failures": [f.message for f in failures],
                "failure_texts": [f.text for f in failures],
                "system_out": case.system_out,
                "system_err": case.system_err,
            })
    out = dict(counted)
    out["suites"] = suites
    out["cases"] = cases
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
