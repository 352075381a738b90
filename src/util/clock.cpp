#include "idemgate/util/clock.hpp"

namespace idemgate::util {

clock const& real_clock() noexcept {
    static system_clock const c;
    return c;
}

} // namespace idemgate::util
