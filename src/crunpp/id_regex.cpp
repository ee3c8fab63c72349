// SPDX-License-Identifier: GPL-2.0-or-later
#include "id_regex.hpp"

#include <regex.h>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "crunpp/state.hpp"

namespace crunpp::cli {
namespace {

class Regex {
public:
    Regex(std::string_view command, const std::string &pattern) {
        if (int rc = regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
            char why[256];
            regerror(rc, &re_, why, sizeof why);
            throw Error(std::string(command) + ": --regex \"" + pattern + "\": " + why);
        }
    }
    ~Regex() { regfree(&re_); }
    Regex(const Regex &) = delete;
    Regex &operator=(const Regex &) = delete;
    bool matches(const std::string &s) const { return regexec(&re_, s.c_str(), 0, nullptr, 0) == 0; }

private:
    regex_t re_{};
};

} // namespace

void for_each_matching_id(std::string_view command, const GlobalOptions &g, const std::string &pattern,
                          const std::function<void(const std::string &id)> &action) {
    Regex re(command, pattern);
    size_t matched = 0, failed = 0;
    for (const std::string &id : state::Store(g.state_root()).list_ids()) {
        if (!re.matches(id))
            continue;
        matched++;
        try {
            action(id);
        } catch (const std::exception &e) {
            failed++;
            log::warn(std::string(command) + " " + id + ": " + e.what());
        }
    }
    if (failed > 0)
        throw Error(std::string(command) + ": " + std::to_string(failed) + " of the " + std::to_string(matched) +
                    " containers matching \"" + pattern + "\" failed");
}

} // namespace crunpp::cli
