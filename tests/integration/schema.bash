# SPDX-License-Identifier: GPL-2.0-or-later
# The OCI runtime-spec JSON schemas, for the tests that validate crunpp's
# output: `load schema`. They live outside the repository, in
# ../shared/runtime-spec/schema beside the clone (CI has them, a fresh clone
# does not), or in $CRUNPP_SCHEMA_DIR. Without them those tests are skipped,
# saying what is missing; nothing fails.

SCHEMA_DIR="${CRUNPP_SCHEMA_DIR:-$BATS_TEST_DIRNAME/../../../shared/runtime-spec/schema}"

# require_schema NAME: skips the test unless the schema NAME is there.
require_schema() {
    [ -f "$SCHEMA_DIR/$1" ] ||
        skip "schema check: no $1 in $SCHEMA_DIR (the OCI runtime-spec schemas, ../shared/runtime-spec/schema beside the clone)"
}

# validate_schema NAME FILE: FILE is valid against the schema NAME
# (config-schema.json, state-schema.json...). A skip ends the test, so call
# it after the test's other checks.
validate_schema() {
    require_schema "$1"
    /usr/bin/python3 "$BATS_TEST_DIRNAME/../helpers/validate-schema.py" "$SCHEMA_DIR/$1" "$2"
}
