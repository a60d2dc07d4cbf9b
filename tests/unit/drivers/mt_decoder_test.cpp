#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <map>

using namespace bbt::drivers::hid;

namespace {}  // namespace

TEST_CASE("values are extracted bit-exact, and signed ranges sign-extend") {
    std::vector<uint8_t> r{0x30, 0xb5, 0x04, 0xff, 0x0f};
    CHECK(extract(r, {8, 16, false, true}) == 0x04b5);
    CHECK(extract(r, {24, 12, false, true}) == 0xfff);
    CHECK(extract(r, {24, 12, true, true}) == -1);
    CHECK(extract(r, {9, 3, false, true}) == 2);
    CHECK(extract(r, {36, 8, false, true}) == 0);  // past the end reads as zero bits
    CHECK(extract(r, {0, 8, false, false}) == 0);  // absent
}

TEST_CASE("quirk names are the kernel's; an unknown one is refused by name") {
    CHECK(quirks_from_names({"NOT_SEEN_MEANS_UP", "SLOT_IS_CONTACTID"}).value() ==
          (quirk::not_seen_means_up | quirk::slot_is_contactid));
    auto bad = quirks_from_names({"SLOT_IS_CONTACT_ID"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("SLOT_IS_CONTACT_ID") != std::string::npos);
}

TEST_CASE("a usage repeated before a contact is whole is ignored, as mt_store_field does") {
    // Tip Switch, then Contact ID twice, then X and Y: one contact, with the
    // first Contact ID; the second is a duplicate on an incomplete contact.
    auto d = parse_descriptor(parse_hex("05 0d 09 04 a1 01 85 01 09 22 a1 02 09 42 15 00 25 01 75 01 95 01 81 02"
                                        " 95 07 81 03 09 51 09 51 25 0a 75 08 95 02 81 02 05 01 09 30 09 31"
                                        " 26 ff 0f 75 10 95 02 81 02 c0 c0")
                                  .value());
    REQUIRE(d);
    auto t = find_touch(*d);
    REQUIRE(t);
    auto layout = make_mt_layout(*d, *t);
    REQUIRE(layout.contacts.size() == 1);
    CHECK(layout.contacts[0].contact_id.bit_offset == 16);
    CHECK(layout.contacts[0].x.bit_offset == 32);
}

TEST_CASE("a short touch report is refused, not read past its end") {
    auto d = parse_descriptor(parse_hex("05 0d 09 04 a1 01 85 01 09 22 a1 02 09 42 15 00 25 01 75 01 95 01 81 02"
                                        " 95 07 81 03 09 51 25 0a 75 08 95 01 81 02 05 01 09 30 09 31 26 ff 0f"
                                        " 75 10 95 02 81 02 c0 05 0d 09 54 75 08 95 01 81 02 c0")
                                  .value());
    REQUIRE(d);
    auto t = find_touch(*d);
    REQUIRE(t);
    mt_decoder dec(make_mt_layout(*d, *t), default_quirks(*d), t->max_contacts);
    std::vector<uint8_t> short_report{0x01, 0x01, 0x05};
    auto r = dec.feed(short_report);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("dropped") != std::string::npos);
    std::vector<uint8_t> other_id{0x02, 0x00};
    CHECK(dec.feed(other_id).value() == std::nullopt);
    std::vector<uint8_t> touch{0x01, 0x01, 0x05, 0x10, 0x00, 0x20, 0x00, 0x01};
    auto f = dec.feed(touch);
    REQUIRE(f);
    REQUIRE(f->has_value());
    CHECK((*f)->touch);
    CHECK((*f)->slots[0].x == 16);
    auto released = dec.release_all();
    CHECK_FALSE(released.touch);
    CHECK(released.slots[0].tracking_id == -1);
}

TEST_CASE("every frame of the kernel's tests gives the slots, tracking ids, positions and BTN_TOUCH it expects") {
    auto dir = bbt::test::hid_data_dir();
    if (!std::filesystem::exists(dir / "samples" / "test_generated_reports.json")) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    auto devices = boost::json::parse(bbt::test::read_file(dir / "devices.json")).as_array();
    std::map<std::string, std::string> files;
    for (const auto& d : devices) {
        files[std::string(d.at("name").as_string())] = std::string(d.at("file").as_string());
    }
    auto all = boost::json::parse(bbt::test::read_file(dir / "samples" / "test_generated_reports.json")).as_object();
    int frames = 0;
    for (const auto& [name_sv, dev_v] : all) {
        std::string name(name_sv);
        CAPTURE(name);
        const auto& dev = dev_v.as_object();
        REQUIRE(files.contains(name));
        auto d = parse_descriptor(parse_hex(bbt::test::read_file(dir / "descriptors" / files[name])).value());
        REQUIRE(d);
        auto t = find_touch(*d);
        REQUIRE(t);
        std::vector<std::string> names;
        if (const auto* q = dev.if_contains("test_quirks"); q && q->is_array()) {
            for (const auto& n : q->as_array())
                names.emplace_back(n.as_string());
        }
        // The classes of the override table decode every frame; where the
        // kernel's test names the quirks, they are the table's.
        uint32_t quirks = default_quirks(*d);
        if (dev.at("vendor_id").is_string() && dev.at("product_id").is_string()) {
            auto vid = static_cast<uint16_t>(std::stoul(std::string(dev.at("vendor_id").as_string()), nullptr, 16));
            auto pid = static_cast<uint16_t>(std::stoul(std::string(dev.at("product_id").as_string()), nullptr, 16));
            quirks = class_for(vid, pid, *d).quirks;
        }
        if (!names.empty()) CHECK(quirks == quirks_from_names(names).value());
        auto max_contacts = static_cast<uint32_t>(dev.at("max_contacts").as_int64());
        for (const auto& sc : dev.at("scenarios").as_array()) {
            CAPTURE(sc.at("scenario").as_string());
            mt_decoder dec(make_mt_layout(*d, *t), quirks, max_contacts);
            std::map<int64_t, int> tracking;  // expected tracking id -> ours
            std::map<int, int64_t> reverse;   // ours -> expected
            int highest = -1;
            int frame_index = 0;
            for (const auto& fr : sc.at("frames").as_array()) {
                CAPTURE(frame_index);
                std::optional<mt_frame> out;
                for (const auto& rep : fr.at("reports").as_array()) {
                    auto bytes = parse_hex(rep.as_string()).value();
                    auto got = dec.feed(bytes);
                    REQUIRE(got);
                    if (*got) out = **got;
                }
                REQUIRE_MESSAGE(out.has_value(), "the frame was not completed");
                const auto& want = fr.at("expected_after").as_object();
                if (const auto* b = want.if_contains("BTN_TOUCH")) CHECK(out->touch == (b->as_int64() != 0));
                for (const auto& [slot_key, sv] : want.at("slots").as_object()) {
                    auto slot = static_cast<size_t>(std::stoi(std::string(slot_key)));
                    CAPTURE(slot);
                    REQUIRE(slot < out->slots.size());
                    const auto& s = sv.as_object();
                    const auto& ours = out->slots[slot];
                    int64_t tid = s.at("tracking_id").as_int64();
                    if (tid < 0) {
                        CHECK(ours.tracking_id == -1);
                        continue;
                    }
                    REQUIRE(ours.tracking_id >= 0);
                    // Tracking ids need only be distinct and increasing: the
                    // same contact keeps its id, a new contact gets a new one.
                    auto [it, fresh] = tracking.emplace(tid, ours.tracking_id);
                    CHECK(it->second == ours.tracking_id);
                    auto [rit, rfresh] = reverse.emplace(ours.tracking_id, tid);
                    CHECK(rit->second == tid);
                    if (fresh) {
                        CHECK(ours.tracking_id > highest);
                        highest = ours.tracking_id;
                    }
                    if (const auto* x = s.if_contains("x")) CHECK(ours.x == x->as_int64());
                    if (const auto* y = s.if_contains("y")) CHECK(ours.y == y->as_int64());
                }
                ++frame_index;
                ++frames;
            }
        }
    }
    MESSAGE(all.size() << " devices, " << frames << " frames checked");
}
