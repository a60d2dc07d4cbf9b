// Where the agent's facts go: the usage ledger (a device entered a state)
// and the outbox (a message for the county). The ledger service is the one
// real sink; tests hold the facts in memory.
//
// Called from the control thread; never blocks it and never fails the caller
// (a full disk is the sink's to report).
#pragma once

#include "bbt/protocol/county.hpp"

#include <cstdint>
#include <string>

namespace bbt::agent {

class fact_sink {
public:
    virtual ~fact_sink() = default;
    // `device` entered `state` now.
    virtual void record(std::string device, std::string state) = 0;
    // A message for the county, made at wall time `at_us`.
    virtual void outbox_put(int64_t at_us, protocol::county::body body) = 0;
};

}  // namespace bbt::agent
