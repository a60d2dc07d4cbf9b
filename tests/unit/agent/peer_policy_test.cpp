#include "bbt/agent/local_api_server.hpp"

#include "doctest_bbt.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

using bbt::agent::peer_credentials;
using bbt::agent::peer_policy;

TEST_CASE("the peer policy serves listed users and members of listed groups only") {
    peer_policy p({1000}, {2000});
    CHECK(p.allows(peer_credentials{1, 1000, 1000}));
    CHECK(p.allows(peer_credentials{1, 4242, 2000}));  // primary group listed
    CHECK_FALSE(p.allows(peer_credentials{1, 4242, 4242}));
    peer_policy none({1000}, {});
    CHECK_FALSE(none.allows(peer_credentials{1, 4242, 2000}));
}

TEST_CASE("the groups of the peer's user, from the user database, count too") {
    // The peer's gid (12345) is not listed, but its user (root) belongs to
    // group 0 in every user database: getgrouplist() finds it.
    const passwd* root = ::getpwuid(0);
    if (root == nullptr) {
        BBT_SKIP("no user database entry for uid 0");
        return;
    }
    peer_policy p({}, {0});
    CHECK(p.allows(peer_credentials{1, 0, 12345}));
}

TEST_CASE("names resolve through the user database; unknown names are reported") {
    std::vector<std::string> unknown;
    auto p = peer_policy::from_names({"root", "no-such-user-bbt"}, {"no-such-group-bbt"}, unknown);
    CHECK(unknown == std::vector<std::string>{"no-such-user-bbt", "no-such-group-bbt"});
    CHECK(p.allows(peer_credentials{1, 0, 0}));
    CHECK(p.allows(peer_credentials{1, ::geteuid(), 99999}));  // the agent's own user
}
