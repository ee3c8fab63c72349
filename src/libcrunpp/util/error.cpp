// SPDX-License-Identifier: GPL-2.0-or-later
#include "crunpp/error.hpp"

#include <cerrno>
#include <cstring>

namespace crunpp {

Error::Error(std::string what, int err) : what_(std::move(what)), errno_(err) { compose(); }

void Error::compose() {
    full_ = what_;
    if (errno_ != 0) {
        full_ += ": ";
        full_ += strerror(errno_);
    }
}

Error &Error::wrap(std::string_view outer) {
    std::string s(outer);
    s += ": ";
    s += what_;
    what_ = std::move(s);
    compose();
    return *this;
}

void throw_errno(std::string what) { throw Error(std::move(what), errno); }
void throw_errno(std::string what, int err) { throw Error(std::move(what), err); }

} // namespace crunpp
