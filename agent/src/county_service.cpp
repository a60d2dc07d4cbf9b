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
      beat_timer_(executor),
      renew_timer_(executor) {}

county_service::~county_service() = default;

result<void> county_service::load_identity() {
    // A renewal cut short: both new files written means it was decided
    // (finish it); a new key alone means it was not (the old pair stands).
    std::error_code ec;
    bool key_next = std::filesystem::exists(dir_ / "key.pem.next", ec),
         cert_next = std::filesystem::exists(dir_ / "cert.pem.next", ec);
    if (key_next && cert_next) {
        std::filesystem::rename(dir_ / "key.pem.next", dir_ / "key.pem", ec);
        if (!ec) std::filesystem::rename(dir_ / "cert.pem.next", dir_ / "cert.pem", ec);
        log::notice(lg, "finished installing a renewed certificate{}", ec ? ": " + ec.message() : "");
    } else if (cert_next) {
        std::filesystem::rename(dir_ / "cert.pem.next", dir_ / "cert.pem", ec);
        log::notice(lg, "finished installing a renewed certificate{}", ec ? ": " + ec.message() : "");
    } else if (key_next) {
        std::filesystem::remove(dir_ / "key.pem.next", ec);
    }
    ca_pem_ = read_or_empty(config_.ca);
    device_id_ = read_or_empty(dir_ / "device_id");
    cert_pem_ = read_or_empty(dir_ / "cert.pem");
    key_pem_ = read_or_empty(dir_ / "key.pem");
    command_key_pem_ = read_or_empty(dir_ / "command_key.pem");
    read_certificate_dates();
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
    if (!config_.url.empty()) {
        asio::co_spawn(executor_, send_loop(), asio::detached);
        asio::co_spawn(executor_, renew_loop(), asio::detached);
    }
    co_return result<void>{};
}

void county_service::read_certificate_dates() {
    cert_not_before_us_ = cert_not_after_us_ = 0;
    if (cert_pem_.empty()) return;
    auto facts = protocol::pki::facts_of(cert_pem_);
    if (!facts) {
        log::error(lg, "the county certificate cannot be read: {}", facts.error().what());
        return;
    }
    auto us = [](std::chrono::sys_seconds t) {
        return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    };
    cert_not_before_us_ = us(facts->not_before);
    cert_not_after_us_ = us(facts->not_after);
}

result<void> county_service::install_identity(const std::string& key_pem, const std::string& cert_pem) {
    // Both written (and synced) before either replaces the old one.
    if (auto w = write_file_atomic(dir_ / "key.pem.next", key_pem); !w) return w.error();
    ::chmod((dir_ / "key.pem.next").c_str(), 0600);
    if (auto w = write_file_atomic(dir_ / "cert.pem.next", cert_pem); !w) return w.error();
    std::error_code ec;
    std::filesystem::rename(dir_ / "key.pem.next", dir_ / "key.pem", ec);
    if (ec) return errno_error(ec.value(), "installing the new key", (dir_ / "key.pem").string());
    std::filesystem::rename(dir_ / "cert.pem.next", dir_ / "cert.pem", ec);
    if (ec) return errno_error(ec.value(), "installing the new certificate", (dir_ / "cert.pem").string());
    key_pem_ = key_pem;
    cert_pem_ = cert_pem;
    read_certificate_dates();
    return {};
}

void county_service::certificate_alert(std::string_view severity, std::string message, bool open) {
    if (open == certificate_alert_open_ && open) return;  // once while it lasts
    if (!open && !certificate_alert_open_) return;
    certificate_alert_open_ = open;
    ledger_.outbox_put(clock::wall_now().count(),
                       wire::alert{"agent", "county.certificate", std::string(severity), std::move(message), open});
}

asio::awaitable<void> county_service::renew_loop() {
    constexpr auto longest_sleep = std::chrono::minutes(10);  // the wall clock may step meanwhile
    while (!stopping_) {
        auto wait = std::chrono::milliseconds(longest_sleep);
        int64_t now = clock::wall_now().count();
        if (!device_id_.empty() && cert_not_after_us_ > 0) {
            int64_t due = cert_not_before_us_ + (cert_not_after_us_ - cert_not_before_us_) * 2 / 3;
            if (now >= cert_not_after_us_) {
                certificate_alert(
                    "critical",
                    std::string(i18n::text({"the county certificate has expired: re-enrol with a code from the "
                                            "county (bbtctl county enrol CODE); the set keeps its id and history",
                                            "县级平台证书已过期：请用县级平台的注册码重新注册（bbtctl county enrol "
                                            "注册码），设备编号与历史记录保留"})),
                    true);
            } else if (now >= due && now - last_renewal_us_ < (cert_not_after_us_ - cert_not_before_us_) / 10) {
                // Due again just after a renewal (a certificate already old
                // when issued, or a clock far behind): not in a loop.
                wait = std::chrono::milliseconds((cert_not_after_us_ - cert_not_before_us_) / 10 / 1000 + 1);
            } else if (now >= due) {
                auto r = co_await renew_now();
                if (r) {
                    last_renewal_us_ = now;
                    renew_failures_ = 0;
                    renewal_error_.clear();
                    certificate_alert("info", "renewed", false);
                    continue;  // the next due time, from the new certificate
                }
                ++renew_failures_;
                renewal_error_ = r.error().what();
                log::warning(lg, "renewing the county certificate: {}", renewal_error_);
                certificate_alert(
                    "warning",
                    i18n::format({"the county certificate could not be renewed ({}); it expires {}",
                                  "县级平台证书续期失败（{}）；将于 {} 过期"},
                                 renewal_error_, clock::format_local(clock::microseconds(cert_not_after_us_))),
                    true);
                wait = next_delay(std::nullopt, renew_failures_);
                // Never past the end: the last chance is tried before it.
                int64_t left_ms = (cert_not_after_us_ - now) / 1000;
                if (left_ms > 2000) wait = std::min(wait, std::chrono::milliseconds(left_ms / 2));
            } else {
                wait = std::min(wait, std::chrono::milliseconds((due - now) / 1000 + 1));
            }
        }
        renew_timer_.expires_after(wait);
        co_await renew_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<result<void>> county_service::renew_now() {
    std::string device = device_id_;
    auto key = protocol::pki::generate_key();
    if (!key) co_return key.error();
    auto csr = protocol::pki::make_csr(*key, device);
    if (!csr) co_return csr.error();
    protocol::https_request req;
    req.url = config_.url + "/v1/renew";
    req.body = json::serialize(json::object{{"csr", *csr}});
    protocol::tls_identity tls{ca_pem_, cert_pem_, key_pem_};
    auto res = co_await protocol::https_post(executor_, tls, req);
    if (!res) co_return res.error();
    boost::system::error_code jec;
    auto body = json::parse(res->body, jec);
    const json::object* o = !jec && body.is_object() ? &body.as_object() : nullptr;
    if (res->status != 200) {
        std::string why = o && o->contains("error") && o->at("error").is_string()
                              ? std::string(o->at("error").as_string())
                              : std::to_string(res->status);
        co_return error(county_errc::refused,
                        i18n::format({"the county refused the renewal: {}", "县级平台拒绝续期：{}"}, why));
    }
    if (!o || !o->contains("certificate") || !o->at("certificate").is_string()) {
        co_return error(county_errc::bad_answer, i18n::text({"the county's renewal answer lacks \"certificate\"",
                                                             "县级平台的续期应答缺少“certificate”"}));
    }
    std::string cert(o->at("certificate").as_string());
    // The county's answer is checked before it replaces what works.
    auto name = protocol::pki::certificate_common_name(cert);
    if (!name || *name != device || !protocol::pki::facts_of(cert)) {
        co_return error(county_errc::bad_answer, i18n::text({"the county's renewed certificate is not for this set",
                                                             "县级平台续期的证书不属于本机"}));
    }
    if (device != device_id_) co_return error(county_errc::refused, "the set was enrolled again meanwhile");
    if (auto r = install_identity(*key, cert); !r) co_return r.error();
    log::notice(lg, "renewed the county certificate; valid until {}",
                clock::format_local(clock::microseconds(cert_not_after_us_)));
    co_return result<void>{};
}

asio::awaitable<void> county_service::stop() {
    stopping_ = true;
    wake_timer_.cancel();
    beat_timer_.cancel();
    renew_timer_.cancel();
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

std::chrono::milliseconds county_service::next_delay(std::optional<int64_t> retry_after_s, int failures) {
    // Full jitter: uniform between retry_min and min(retry_max, retry_min * 2^failures).
    auto low = static_cast<double>(config_.retry_min.count());
    double cap = std::min(low * std::pow(2.0, std::min(failures, 30)), static_cast<double>(config_.retry_max.count()));
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
                        // The county's clock, as it is now (its answer's time and what passed since).
                        int64_t county_offset = reply->now_us ? *reply->now_us - clock::wall_now().count() : 0;
                        co_await handle_commands(reply->commands, county_offset);
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
                    wait = next_delay(retry_after, failures_);
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

asio::awaitable<void> county_service::handle_commands(const std::vector<wire::command>& commands,
                                                      int64_t county_offset_us) {
    for (const auto& c : commands) {
        auto now = clock::wall_now().count();
        // Expiry by the county's clock, which signed it: a set's clock hours off
        // neither runs an expired command nor refuses a fresh one.
        std::string refusal = wire::refusal_for(c, command_key_pem_, device_id_, now + county_offset_us).value_or("");
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
    // A new key for each enrolment, made here; it never leaves the set, and
    // replaces the old one only with the certificate the county gives.
    auto key = protocol::pki::generate_key();
    if (!key) co_return key.error();
    auto csr = protocol::pki::make_csr(*key, hostname());
    if (!csr) co_return csr.error();
    protocol::https_request req;
    req.url = config_.url + "/v1/enrol";
    json::object request{{"code", code}, {"csr", *csr}};
    // Enrolled before (its certificate expired, say): the county keeps the
    // set's id and history when the code is for the same classroom.
    if (!device_id_.empty()) request["device_id"] = device_id_;
    req.body = json::serialize(request);
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
    if (auto w = install_identity(*key, cert); !w) co_return w.error();
    if (auto w = write_file_atomic(dir_ / "command_key.pem", cmd); !w) co_return w.error();
    // Last: an enrolment is whole when the device id is there.
    if (auto w = write_file_atomic(dir_ / "device_id", id); !w) co_return w.error();
    device_id_ = id;
    command_key_pem_ = cmd;
    failures_ = 0;
    last_error_.clear();
    renew_failures_ = 0;
    renewal_error_.clear();
    certificate_alert("info", "enrolled", false);
    renew_timer_.cancel();  // the renewal's next due time, from this certificate
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
    o.certificate_expires_wall_us = cert_not_after_us_;
    if (cert_not_after_us_)
        o.renew_at_wall_us = cert_not_before_us_ + (cert_not_after_us_ - cert_not_before_us_) * 2 / 3;
    o.renewal_error = renewal_error_;
    co_return o;
}

}  // namespace bbt::agent
