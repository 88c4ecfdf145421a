"""The report half of sarif-validate: python sarif_validate.py MULTITOOL-OUT SCHEMA LOG...

Prints each result of the SARIF Multitool's own log (MULTITOOL-OUT) with its
message text filled in from the rule's messageStrings, then each error of
each LOG against SCHEMA (the SARIF 2.1.0 JSON schema, formats checked), one
line each: LEVEL<TAB>RULE<TAB>TEXT, TEXT starting with the file's name when
there are several logs. Exits 1 if any line is an error.
"""

import json
import re
import sys
from urllib.parse import unquote, urlparse

import jsonschema


def fill(template, args):
    def arg(m):
        i = int(m.group(1))
        return args[i] if i < len(args) else m.group(0)

    return re.sub(r"\{(\d+)\}", arg, template)


def multitool_lines(path):
    run = json.load(open(path, encoding="utf-8"))["runs"][0]
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    for r in run.get("results", []):
        msg = r.get("message", {})
        text = msg.get("text")
        if text is None:
            i = r.get("ruleIndex", -1)
            rule = rules[i] if 0 <= i < len(rules) else {}
            template = rule.get("messageStrings", {}).get(msg.get("id", ""), {}).get("text")
            args = msg.get("arguments", [])
            text = fill(template, args) if template else " ".join([msg.get("id", ""), *args])
        locs = r.get("locations") or [{}]
        uri = locs[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri", "")
        yield r.get("level", "warning"), r.get("ruleId"), unquote(urlparse(uri).path), text


def schema_lines(schema_path, logs):
    schema = json.load(open(schema_path, encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    for path in logs:
        try:
            log = json.load(open(path, encoding="utf-8"))
        except ValueError as e:
            yield "error", "schema", path, f"not JSON: {e}"
            continue
        for e in sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.absolute_path))):
            yield "error", "schema", path, f"{e.json_path}: {e.message}"


def main():
    out, schema, *logs = sys.argv[1:]
    errors = warnings = 0
    for level, rule, path, text in [*multitool_lines(out), *schema_lines(schema, logs)]:
        where = f"{path}: " if len(logs) > 1 else ""
        print(f"{level}\t{rule}\t{where}{text}")
        if level == "error":
            errors += 1
        else:
            warnings += 1
    print(f"sarif-validate: {errors} errors, {warnings} warnings")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
