// Calibration of a whiteboard against the projected image: a projective map
// (homography) from the board's touch coordinates to screen coordinates, so
// that the projector's keystone is corrected too, fitted by least squares
// (normalised DLT) from 4 or more touched targets, 9 by default.
//
// Pure: points in, a map or an error out.
#pragma once

#include "bbt/base/error.hpp"

#include <array>
#include <span>
#include <vector>

namespace bbt::drivers::whiteboard {

struct point {
    double x = 0;
    double y = 0;
};

struct homography {
    std::array<double, 9> h{1, 0, 0, 0, 1, 0, 0, 0, 1};  // row-major, h[8] normalised to 1

    [[nodiscard]] point apply(point p) const noexcept;
    // The inverse map; an identity-free homography is always invertible once fitted.
    [[nodiscard]] homography inverse() const noexcept;
};

enum class calibration_errc {
    too_few_points = 1,  // fewer than 4 pairs
    mismatched,          // touches and targets differ in number
    degenerate,          // points on a line, repeated, or otherwise not fixing a unique map
    not_finite,          // a coordinate is NaN or infinite
};
const std::error_category& calibration_category() noexcept;
std::error_code make_error_code(calibration_errc e) noexcept;

// Fits the map taking `touches` (device units) to `targets` (screen pixels).
[[nodiscard]] result<homography> fit_homography(std::span<const point> touches, std::span<const point> targets);

// The targets of a 3 x 3 calibration, inset by `margin` (a fraction of the
// screen) from its edges.
[[nodiscard]] std::vector<point> nine_targets(double width, double height, double margin = 0.1);

// The targets of an n x n calibration (n from 2 to 5), row by row.
[[nodiscard]] std::vector<point> grid_targets(double width, double height, int n, double margin = 0.1);

// How far touches land from where they should, in millimetres on the board:
// each target is taken back into device units and compared with its touch,
// using the device's resolution (units per mm, from its descriptor).
struct accuracy {
    std::vector<double> errors_mm;
    double max_mm = 0;
    double mean_mm = 0;
    // GB 50799-2012 §8.3.6: a finger touch within ±2 mm.
    [[nodiscard]] bool within(double limit_mm = 2.0) const noexcept { return max_mm <= limit_mm; }
};

[[nodiscard]] result<accuracy> check_accuracy(const homography& map, std::span<const point> touches,
                                              std::span<const point> targets, double units_per_mm_x,
                                              double units_per_mm_y);

}  // namespace bbt::drivers::whiteboard

template <>
struct std::is_error_code_enum<bbt::drivers::whiteboard::calibration_errc> : std::true_type {};
