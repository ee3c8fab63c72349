// SPDX-License-Identifier: GPL-2.0-or-later
// The OCI runtime-spec schemas and example configs live outside the
// repository, in ../shared/runtime-spec/schema beside the clone (CI has
// them, a fresh clone does not; $CRUNPP_SHARED_DIR overrides). The cases
// that read them are tagged [schema]: contrib/test.sh leaves them out and
// counts them as skipped when the schemas are missing, and each returns
// early with a warning when run by hand without them.
#pragma once

#include <catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace schema_test {

inline std::string schema_dir() {
    const char *env = std::getenv("CRUNPP_SHARED_DIR");
    return std::string(env ? env : CRUNPP_SHARED_DIR) + "/runtime-spec/schema";
}

inline bool schema_present() {
    return std::filesystem::is_directory(schema_dir());
}

} // namespace schema_test

#define SKIP_WITHOUT_SCHEMA()                                                                                    \
    do {                                                                                                         \
        if (!schema_test::schema_present()) {                                                                    \
            WARN("skipped: no OCI runtime-spec schemas in " << schema_test::schema_dir());                      \
            return;                                                                                              \
        }                                                                                                        \
    } while (0)
