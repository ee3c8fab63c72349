// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for state.json loading (state::from_json, what every
// command but create reads first). A loaded state must write back to a
// state.json that loads to the same thing (what `update`, `pause` and
// `start` do to it), and to an OCI state (`crunpp state`) that is JSON.
#include <string>
#include <string_view>

#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/state.hpp"
#include "fuzz.hpp"

int crunpp::fuzz::state(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    state::ContainerState s;
    try {
        s = state::from_json(text, "state.json");
    } catch (const Error &e) {
        check(e.what()[0] != '\0', "state: an empty error");
        return 0;
    }
    check(state::valid_id(s.id), "state: an invalid id loaded");
    std::string again;
    try {
        again = state::to_json(state::from_json(state::to_json(s), "state.json"));
    } catch (const Error &) {
        check(false, "state: what it wrote does not load");
    }
    check(again == state::to_json(s), "state: a write/load round trip changed the state");
    try {
        (void)json::parse(state::to_oci_json(s, true, state::PidWhenNone::Zero), "oci state");
        (void)json::parse(state::to_oci_json(s, false, state::PidWhenNone::Omitted), "oci state");
    } catch (const Error &) {
        check(false, "state: the OCI state is not JSON");
    }
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::state)
