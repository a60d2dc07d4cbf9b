#include "bbt/agent/county_service.hpp"
#include "bbt/agent/errors.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/protocol/gzip.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/local_api.hpp"
#include "bbt/protocol/pki.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace bbt::agent {
namespace {

namespace json = boost::json;
namespace wire = protocol::county;
using namespace std::chrono_literals;
const log::category lg{"county"};

constexpr size_t batch_messages = 1024;
constexpr size_t batch_bytes = 512 * 1024;

std::string read_or_empty(const std::filesystem::path& p) {
    auto text = read_file(p);
    return text ? std::move(*text) : std::string{};
}

std::string hostname() {
    char buf[256] = "";
    ::gethostname(buf, sizeof buf - 1);
    return buf[0] ? buf : "bbt-set";
}

}  // namespace

county_service::county_service(asio::any_io_executor executor, agent_config::county_config config,
                               ledger_service& ledger, std::filesystem::path state_dir,
                               std::function<std::map<std::string, std::string>()> health,
                               std::function<std::vector<wire::device>()> inventory,
                               std::function<std::vector<wire::lamp>()> lamps)
    : executor_(executor),
      config_(std::move(config)),
      ledger_(ledger),
      dir_(std::move(state_dir) / "county"),
      health_(std::move(health)),
      inventory_(std::move(inventory)),
      lamps_(std::move(lamps)),
      wake_timer_(executor),
      beat_timer_(executor) {}

county_service::~county_service() = default;

result<void> county_service::load_identity() {
    ca_pem_ = read_or_empty(config_.ca);
    device_id_ = read_or_empty(dir_ / "device_id");
    cert_pem_ = read_or_empty(dir_ / "cert.pem");
    key_pem_ = read_or_empty(dir_ / "key.pem");
    command_key_pem_ = read_or_empty(dir_ / "command_key.pem");
    if (ca_pem_.empty()) {
        return errno_error(
            ENOENT, i18n::text({"reading the county CA certificate (county.ca)", "读取县级 CA 证书（county.ca）"}),
            config_.ca.string());
    }
    return {};
}

asio::awaitable<result<void>> county_service::start() {
    ledger_.set_outbox_bound(config_.outbox_max_mb << 20);
    if (config_.url.empty()) {
        log::info(lg, "no county configured (county.url); reports wait in the outbox");
    } else if (auto r = load_identity(); !r) {
        // Not fatal: the classroom works without the county; the status says why.
        last_error_ = r.error().what();
        log::error(lg, "{}", last_error_);
    } else if (device_id_.empty()) {
        log::notice(lg, "not enrolled with the county yet: bbtctl county enrol CODE");
    } else {
        log::info(lg, "enrolled with the county as {}", device_id_);
    }
    // Heartbeats queue whether or not the county can be reached.
    asio::co_spawn(executor_, heartbeat_loop(), asio::detached);
    if (!config_.url.empty()) asio::co_spawn(executor_, send_loop(), asio::detached);
    co_return result<void>{};
}

asio::awaitable<void> county_service::stop() {
    stopping_ = true;
    wake_timer_.cancel();
    beat_timer_.cancel();
    co_return;
}

void county_service::wake() {
    if (sending_) return;
    wake_timer_.cancel();
}

void county_service::queue_inventory_if_changed() {
    if (!inventory_) return;
    wire::inventory inv;
    // The county names the set SCHOOL/ROOM#N at enrolment.
    if (auto slash = device_id_.find('/'); slash != std::string::npos) {
        inv.school = device_id_.substr(0, slash);
        inv.classroom = device_id_.substr(slash + 1, device_id_.rfind('#') - slash - 1);
    }
    inv.devices = inventory_();
    std::string text = json::serialize(wire::to_json(wire::message{0, 0, inv}).at("body"));
    int64_t now = clock::wall_now().count();
    constexpr int64_t day_us = 24LL * 3600 * 1'000'000;
    if (text == last_inventory_ && now - last_inventory_us_ < day_us) return;
    last_inventory_ = std::move(text);
    last_inventory_us_ = now;
    ledger_.outbox_put(now, std::move(inv));
}

asio::awaitable<void> county_service::heartbeat_loop() {
    while (!stopping_) {
        queue_inventory_if_changed();
        wire::heartbeat hb;
        hb.uptime_s = static_cast<double>(clock::monotonic_now().count()) / 1e6;
        hb.clock_synchronized = clock::wall_clock_synchronized();
        if (auto s = co_await ledger_.outbox_stats_now()) hb.queue_depth = s->messages;
        if (health_) hb.health = health_();
        if (lamps_) hb.lamps = lamps_();
        ledger_.outbox_put(clock::wall_now().count(), hb);
        // Sent at once, unless the sender is backing off after failures.
        if (failures_ == 0) wake();
        beat_timer_.expires_after(config_.heartbeat);
        co_await beat_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

std::chrono::milliseconds county_service::next_delay(std::optional<int64_t> retry_after_s) {
    // Full jitter: uniform between retry_min and min(retry_max, retry_min * 2^failures).
    auto low = static_cast<double>(config_.retry_min.count());
    double cap = std::min(low * std::pow(2.0, std::min(failures_, 30)), static_cast<double>(config_.retry_max.count()));
    std::uniform_real_distribution<double> d(low, std::max(cap, low));
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(d(rng_)));
    if (retry_after_s) delay = std::max(delay, std::chrono::milliseconds(*retry_after_s * 1000));
    return delay;
}

asio::awaitable<result<protocol::https_response>> county_service::fetch(std::string path, std::string etag) {
    protocol::https_request req;
    req.url = std::move(path);
    req.method = "GET";
    req.if_none_match = std::move(etag);
    co_return co_await send(std::move(req));
}

asio::awaitable<result<protocol::https_response>> county_service::send(protocol::https_request req) {
    if (config_.url.empty()) {
        co_return error(base_errc::not_found,
                        i18n::text({"no county is configured ([county] url)", "未配置县级平台（[county] url）"}));
    }
    if (device_id_.empty() || ca_pem_.empty()) {
        co_return error(base_errc::not_found,
                        i18n::text({"this set is not enrolled with the county yet; run: bbtctl county enrol CODE",
                                    "本机尚未在县级平台注册；请运行：bbtctl county enrol 注册码"}));
    }
    req.url = config_.url + req.url;
    protocol::tls_identity tls{ca_pem_, cert_pem_, key_pem_};
    co_return co_await protocol::https_send(executor_, tls, req);
}

asio::awaitable<void> county_service::send_loop() {
    while (!stopping_) {
        std::chrono::milliseconds wait = config_.heartbeat;
        if (!device_id_.empty() && !ca_pem_.empty()) {
            auto batch = co_await ledger_.outbox_batch(batch_messages, batch_bytes);
            if (batch && !batch->empty()) {
                wire::batch b{device_id_, std::string(bbt_version()), std::move(*batch)};
                protocol::https_request req;
                req.url = config_.url + "/v1/reports";
                req.content_encoding = "gzip";
                req.body = protocol::gzip(wire::encode(b));
                protocol::tls_identity tls{ca_pem_, cert_pem_, key_pem_};
                last_attempt_wall_us_ = clock::wall_now().count();
                sending_ = true;
                auto res = co_await protocol::https_post(executor_, tls, req);
                sending_ = false;
                std::optional<int64_t> retry_after;
                std::string problem;
                if (!res) {
                    problem = res.error().what();
                } else if (res->status != 200) {
                    retry_after = res->retry_after_s;
                    boost::system::error_code ec;
                    auto body = json::parse(res->body, ec);
                    std::string why =
                        !ec && body.is_object() && body.as_object().contains("error") && body.at("error").is_string()
                            ? std::string(body.at("error").as_string())
                            : res->body.substr(0, 200);
                    problem = i18n::format({"the county answered {}: {}", "县级平台返回 {}：{}"}, res->status, why);
                } else if (auto reply = wire::decode_reply(res->body); !reply) {
                    problem = reply.error().message();
                } else {
                    auto acked = co_await ledger_.outbox_ack(reply->acked);
                    if (!acked) {
                        problem = acked.error().what();
                    } else {
                        delivered_ += *acked;
                        failures_ = 0;
                        if (!last_error_.empty()) log::notice(lg, "the county is reachable again");
                        last_error_.clear();
                        last_success_wall_us_ = clock::wall_now().count();
                        co_await handle_commands(reply->commands);
                        if (reply->retry_after_s) {
                            wait = std::chrono::seconds(*reply->retry_after_s);
                        } else {
                            continue;  // more may be waiting: send at once
                        }
                    }
                }
                if (!problem.empty()) {
                    ++failures_;
                    if (problem != last_error_) log::warning(lg, "delivering to the county: {}", problem);
                    last_error_ = problem;
                    wait = next_delay(retry_after);
                }
            } else if (!batch) {
                wait = 1s;
            }
        }
        next_attempt_wall_us_ =
            clock::wall_now().count() + std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
        wake_timer_.expires_after(wait);
        co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> county_service::handle_commands(const std::vector<wire::command>& commands) {
    for (const auto& c : commands) {
        auto now = clock::wall_now().count();
        std::string refusal = wire::refusal_for(c, command_key_pem_, device_id_, now).value_or("");
        if (refusal.empty()) {
            auto admitted = co_await ledger_.admit_command(c.nonce, c.id, c.expires_us);
            if (admitted && *admitted == outbox::admission::done_before) {
                log::info(lg, "command {} ({}) sent again by the county; already carried out", c.id, c.verb);
                continue;
            }
            if (!admitted) {
                refusal = fmt::format("cannot be checked for replay: {}", admitted.error().message());
            } else if (*admitted == outbox::admission::replayed) {
                refusal = "replayed";
            }
        }
        if (!refusal.empty()) {
            log::warning(lg, "command {} ({}) from the county refused: {}", c.id, c.verb, refusal);
            ledger_.outbox_put(now,
                               wire::alert{"agent", "county.command-refused", "warning",
                                           fmt::format("command {} ({}) refused: {}", c.id, c.verb, refusal), true});
            ledger_.outbox_put(now, wire::command_result{c.id, c.verb, false, refusal});
            continue;
        }
        // Audited: the command as received, then its result.
        log::notice(lg, "command {} from the county: {} {}", c.id, c.verb, json::serialize(c.args));
        ledger_.outbox_put(now, wire::event{"agent", "county.command", fmt::format("{} {}", c.id, c.verb)});
        if (!command_handler_) {
            ledger_.outbox_put(now, wire::command_result{c.id, c.verb, false, "not available on this set"});
            continue;
        }
        // Called first, awaited second: no temporaries inside the co_await (GCC 12).
        wire::command copy = c;
        auto pending = command_handler_(std::move(copy));
        auto done = co_await std::move(pending);
        auto detail = done ? *done : done.error().message();
        log::notice(lg, "command {} ({}): {}", c.id, c.verb, done ? "done" : detail);
        ledger_.outbox_put(clock::wall_now().count(),
                           wire::command_result{c.id, c.verb, static_cast<bool>(done), detail});
    }
    if (!commands.empty()) wake();
}

asio::awaitable<result<std::string>> county_service::enrol(std::string code) {
    if (config_.url.empty()) {
        co_return error(county_errc::not_configured, i18n::text({"no county is configured (county.url in agent.toml)",
                                                                 "未配置县级平台（agent.toml 中的 county.url）"}));
    }
    if (code.empty() || code.size() > 64) {
        co_return error(county_errc::bad_request,
                        i18n::text({"give the enrolment code from the county", "请提供县级平台发放的注册码"}));
    }
    if (auto r = load_identity(); !r) co_return r.error();
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    ::chmod(dir_.c_str(), 0700);
    // The key is made here, once, and never leaves the set.
    if (key_pem_.empty()) {
        auto key = protocol::pki::generate_key();
        if (!key) co_return key.error();
        if (auto w = write_file_atomic(dir_ / "key.pem", *key); !w) co_return w.error();
        ::chmod((dir_ / "key.pem").c_str(), 0600);
        key_pem_ = *key;
    }
    auto csr = protocol::pki::make_csr(key_pem_, hostname());
    if (!csr) co_return csr.error();
    protocol::https_request req;
    req.url = config_.url + "/v1/enrol";
    req.body = json::serialize(json::object{{"code", code}, {"csr", *csr}});
    protocol::tls_identity tls{ca_pem_, {}, {}};
    auto res = co_await protocol::https_post(executor_, tls, req);
    if (!res) co_return res.error();
    boost::system::error_code jec;
    auto body = json::parse(res->body, jec);
    if (jec || !body.is_object()) {
        co_return error(county_errc::bad_answer, i18n::format({"the county's answer to the enrolment is not valid ({})",
                                                               "县级平台的注册应答无效（{}）"},
                                                              res->status));
    }
    const auto& o = body.as_object();
    if (res->status != 200) {
        std::string why = o.contains("error") && o.at("error").is_string() ? std::string(o.at("error").as_string())
                                                                           : std::to_string(res->status);
        co_return error(county_errc::refused,
                        i18n::format({"the county refused the enrolment: {}", "县级平台拒绝注册：{}"}, why));
    }
    for (const char* k : {"device_id", "certificate", "command_key"}) {
        if (!o.contains(k) || !o.at(k).is_string()) {
            co_return error(
                county_errc::bad_answer,
                i18n::format({"the county's enrolment answer lacks \"{}\"", "县级平台的注册应答缺少“{}”"}, k));
        }
    }
    std::string id(o.at("device_id").as_string()), cert(o.at("certificate").as_string()),
        cmd(o.at("command_key").as_string());
    if (auto w = write_file_atomic(dir_ / "cert.pem", cert); !w) co_return w.error();
    if (auto w = write_file_atomic(dir_ / "command_key.pem", cmd); !w) co_return w.error();
    // Last: an enrolment is whole when the device id is there.
    if (auto w = write_file_atomic(dir_ / "device_id", id); !w) co_return w.error();
    device_id_ = id;
    cert_pem_ = cert;
    command_key_pem_ = cmd;
    failures_ = 0;
    last_error_.clear();
    log::notice(lg, "enrolled with the county as {}", device_id_);
    queue_inventory_if_changed();  // now with its school and classroom
    wake();
    for (auto& f : enrolled_)
        f();
    co_return device_id_;
}

asio::awaitable<county_status> county_service::status() {
    county_status o;
    o.configured = !config_.url.empty();
    o.url = config_.url;
    o.enrolled = !device_id_.empty();
    o.device_id = device_id_;
    o.delivered = delivered_;
    if (auto st = co_await ledger_.outbox_stats_now()) o.queue = *st;
    o.last_success_wall_us = last_success_wall_us_;
    o.last_attempt_wall_us = last_attempt_wall_us_;
    o.last_error = last_error_;
    o.next_attempt_wall_us = next_attempt_wall_us_;
    co_return o;
}

}  // namespace bbt::agent
