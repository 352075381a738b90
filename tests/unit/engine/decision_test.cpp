// Contract §2's table: every store answer × both concurrent modes.
#include "idemgate/engine/decision.hpp"

#include <gtest/gtest.h>

namespace idemgate::engine {
namespace {

using store::begin_kind;
using mode = config::concurrent_mode;

struct row {
    begin_kind kind;
    mode concurrent;
    action expected;
};

TEST(decide, follows_the_contract_table_for_every_answer_and_mode) {
    row const rows[] = {
        {begin_kind::acquired, mode::reject, action::forward},
        {begin_kind::acquired, mode::wait, action::forward},
        {begin_kind::replay, mode::reject, action::replay},
        {begin_kind::replay, mode::wait, action::replay},
        {begin_kind::fingerprint_mismatch, mode::reject, action::conflict},
        {begin_kind::fingerprint_mismatch, mode::wait, action::conflict},
        {begin_kind::in_progress, mode::reject, action::in_progress},
        {begin_kind::in_progress, mode::wait, action::wait},
    };
    for (auto const& r : rows) {
        EXPECT_EQ(decide(r.kind, r.concurrent), r.expected)
            << "kind " << static_cast<int>(r.kind) << ", mode " << static_cast<int>(r.concurrent);
    }
}

} // namespace
} // namespace idemgate::engine
