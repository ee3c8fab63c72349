#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# validate-schema.py SCHEMA FILE: checks FILE (a JSON document, "-" for
# stdin) against an OCI runtime-spec JSON schema, resolving its relative
# $refs (defs.json, config-linux.json...) next to SCHEMA. Exit 0 when valid,
# 1 with the first error's path and message on stderr when not, 2 on usage
# or I/O errors. Needs Debian's python3-jsonschema (run with /usr/bin/python3).
import json
import pathlib
import sys

import jsonschema


def main(argv):
    if len(argv) != 3:
        print("usage: validate-schema.py SCHEMA FILE", file=sys.stderr)
        return 2
    try:
        schema_path = pathlib.Path(argv[1]).resolve()
        schema = json.loads(schema_path.read_text())
        if argv[2] == "-":
            document = json.load(sys.stdin)
        else:
            with open(argv[2]) as f:
                document = json.load(f)
    except (OSError, ValueError) as e:
        print(f"validate-schema: {e}", file=sys.stderr)
        return 2
    resolver = jsonschema.RefResolver(schema_path.as_uri(), schema)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, resolver=resolver)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return 0
    for e in errors[:5]:
        where = "." + ".".join(str(p) for p in e.absolute_path) if e.absolute_path else "(document)"
        print(f"{argv[2]}: {where}: {e.message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
