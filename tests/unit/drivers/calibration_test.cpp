#include "bbt/drivers/whiteboard/calibration.hpp"

#include "doctest_bbt.hpp"

#include <cmath>
#include <random>

using namespace bbt::drivers::whiteboard;

namespace {

// A board of 32768 x 32768 units over 1600 x 1000 mm (about 20 and 33 units
// per mm), seen by a 1920 x 1080 image with keystone: a true homography.
constexpr double res_x = 32767.0 / 1600.0;
constexpr double res_y = 32767.0 / 1000.0;
const homography truth{{0.0621, 0.0043, -35.0, -0.0021, 0.0349, 22.0, 1.1e-6, -2.3e-6, 1.0}};

}  // namespace

TEST_CASE("a known homography is recovered from noisy touches to within 0.5 mm") {
    std::mt19937 rng(20261122);
    // Touch jitter of 0.2 mm per axis (one standard deviation): an IR
    // frame's quantisation plus a finger held on the target, its samples
    // averaged. At 0.5 mm the worst error over the image reaches about
    // 0.9 mm: 9 points pin 8 parameters only so well.
    std::normal_distribution<double> noise_mm(0.0, 0.2);
    double worst_all = 0;
    auto targets = nine_targets(1920, 1080);
    REQUIRE(targets.size() == 9);
    homography back = truth.inverse();
    for (int trial = 0; trial < 20; ++trial) {
        CAPTURE(trial);
        std::vector<point> touches;
        for (const auto& t : targets) {
            point p = back.apply(t);
            touches.push_back({p.x + noise_mm(rng) * res_x, p.y + noise_mm(rng) * res_y});
        }
        auto fit = fit_homography(touches, targets);
        REQUIRE(fit);
        // The fitted map against the true one over the whole image, in mm on the board.
        double worst = 0;
        homography fitted_back = fit->inverse();
        for (double x = 192; x <= 1728; x += 96) {
            for (double y = 108; y <= 972; y += 54) {
                point a = back.apply({x, y});
                point b = fitted_back.apply({x, y});
                worst = std::max(worst, std::hypot((a.x - b.x) / res_x, (a.y - b.y) / res_y));
            }
        }
        CHECK(worst <= 0.5);
        worst_all = std::max(worst_all, worst);
        auto acc = check_accuracy(*fit, touches, targets, res_x, res_y);
        REQUIRE(acc);
        CHECK(acc->errors_mm.size() == 9);
        CHECK(acc->max_mm < 2.0);
        CHECK(acc->within());
    }
    MESSAGE("worst error of the fitted map over the calibrated area in 20 trials: " << worst_all << " mm");
}

TEST_CASE("an exact set of 4 points gives the exact map") {
    std::vector<point> targets{{0, 0}, {1920, 0}, {1920, 1080}, {0, 1080}};
    std::vector<point> touches;
    for (const auto& t : targets)
        touches.push_back(truth.inverse().apply(t));
    auto fit = fit_homography(touches, targets);
    REQUIRE(fit);
    for (size_t i = 0; i < 9; ++i)
        CHECK(fit->h[i] == doctest::Approx(truth.h[i]).epsilon(1e-6).scale(1e-3));
    point p = fit->apply(touches[2]);
    CHECK(p.x == doctest::Approx(1920).epsilon(1e-9));
    CHECK(p.y == doctest::Approx(1080).epsilon(1e-9));
}

TEST_CASE("the accuracy check reports a touch that lands off target, in mm") {
    auto targets = nine_targets(1920, 1080);
    std::vector<point> touches;
    for (const auto& t : targets)
        touches.push_back(truth.inverse().apply(t));
    touches[4].x += 3 * res_x;  // the centre touch 3 mm to the right
    auto acc = check_accuracy(truth, touches, targets, res_x, res_y);
    REQUIRE(acc);
    CHECK(acc->max_mm == doctest::Approx(3.0));
    CHECK(acc->mean_mm == doctest::Approx(3.0 / 9));
    CHECK_FALSE(acc->within());
    CHECK_FALSE(check_accuracy(truth, touches, targets, 0, res_y));
}

TEST_CASE("degenerate point sets are refused with a clear message") {
    std::vector<point> line{{0, 0}, {10, 10}, {20, 20}, {30, 30}, {40, 40}};
    std::vector<point> ok{{0, 0}, {100, 0}, {100, 100}, {0, 100}, {50, 50}};
    auto r = fit_homography(line, ok);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == calibration_errc::degenerate);
    CHECK(r.error().message().find("try again") != std::string::npos);

    std::vector<point> same(5, point{7, 7});
    CHECK(fit_homography(same, ok).error().code() == calibration_errc::degenerate);

    std::vector<point> three{{0, 0}, {1, 0}, {0, 1}};
    auto few = fit_homography(three, three);
    REQUIRE_FALSE(few);
    CHECK(few.error().code() == calibration_errc::too_few_points);
    CHECK(few.error().message().find("at least 4") != std::string::npos);

    CHECK(fit_homography(ok, line).error().code() == calibration_errc::degenerate);
    std::vector<point> four(ok.begin(), ok.begin() + 4);
    CHECK(fit_homography(four, ok).error().code() == calibration_errc::mismatched);
    auto nan = ok;
    nan[2].x = std::nan("");
    CHECK(fit_homography(nan, ok).error().code() == calibration_errc::not_finite);
    // Two pairs of repeated points: only 3 distinct positions.
    std::vector<point> repeated{{0, 0}, {0, 0}, {100, 0}, {100, 0}, {0, 100}};
    CHECK(fit_homography(repeated, ok).error().code() == calibration_errc::degenerate);
}
