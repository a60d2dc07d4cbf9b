// Eigen is used here alone, for the singular value decomposition.
#include "bbt/drivers/whiteboard/calibration.hpp"

#include "bbt/base/i18n.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <cmath>

namespace bbt::drivers::whiteboard {
namespace {

class calibration_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.calibration"; }
    std::string message(int ev) const override {
        switch (static_cast<calibration_errc>(ev)) {
            case calibration_errc::too_few_points: return "too few calibration points";
            case calibration_errc::mismatched: return "touches and targets differ in number";
            case calibration_errc::degenerate: return "degenerate calibration points";
            case calibration_errc::not_finite: return "calibration point not finite";
        }
        return "calibration error";
    }
};

// Hartley's normalisation: centroid to the origin, mean distance sqrt(2).
// Returns false when every point coincides.
bool normaliser(std::span<const point> pts, Eigen::Matrix3d& t) {
    double cx = 0, cy = 0;
    for (const auto& p : pts)
        cx += p.x, cy += p.y;
    cx /= static_cast<double>(pts.size());
    cy /= static_cast<double>(pts.size());
    double d = 0;
    for (const auto& p : pts)
        d += std::hypot(p.x - cx, p.y - cy);
    d /= static_cast<double>(pts.size());
    if (!(d > 0)) return false;
    double s = std::sqrt(2.0) / d;
    t << s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1;
    return true;
}

Eigen::Matrix3d matrix(const homography& h) {
    Eigen::Matrix3d m;
    m << h.h[0], h.h[1], h.h[2], h.h[3], h.h[4], h.h[5], h.h[6], h.h[7], h.h[8];
    return m;
}

homography from_matrix(const Eigen::Matrix3d& m) {
    homography h;
    double n = m(2, 2);
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c)
            h.h[static_cast<size_t>(r * 3 + c)] = m(r, c) / n;
    }
    return h;
}

error degenerate(std::string_view why) {
    return error(calibration_errc::degenerate,
                 i18n::format({"the calibration points do not fix the image's position ({}); touch each target "
                               "where it is shown and try again",
                               "校准点无法确定画面位置（{}）；请在每个目标显示处准确触摸后重试"},
                              why));
}

}  // namespace

const std::error_category& calibration_category() noexcept {
    static const calibration_category_impl c;
    return c;
}
std::error_code make_error_code(calibration_errc e) noexcept { return {static_cast<int>(e), calibration_category()}; }

point homography::apply(point p) const noexcept {
    double w = h[6] * p.x + h[7] * p.y + h[8];
    return {(h[0] * p.x + h[1] * p.y + h[2]) / w, (h[3] * p.x + h[4] * p.y + h[5]) / w};
}

homography homography::inverse() const noexcept { return from_matrix(matrix(*this).inverse()); }

result<homography> fit_homography(std::span<const point> touches, std::span<const point> targets) {
    if (touches.size() != targets.size()) {
        return error(
            calibration_errc::mismatched,
            i18n::format({"{} touches for {} targets", "{} 次触摸对应 {} 个目标"}, touches.size(), targets.size()));
    }
    if (touches.size() < 4) {
        return error(calibration_errc::too_few_points, i18n::format({"a calibration needs at least 4 points, {} given",
                                                                     "校准至少需要 4 个点，实际 {} 个"},
                                                                    touches.size()));
    }
    for (size_t i = 0; i < touches.size(); ++i) {
        if (!std::isfinite(touches[i].x) || !std::isfinite(touches[i].y) || !std::isfinite(targets[i].x) ||
            !std::isfinite(targets[i].y)) {
            return error(calibration_errc::not_finite,
                         i18n::format({"point {} is not a finite number", "第 {} 个点不是有限数值"}, i + 1));
        }
    }
    Eigen::Matrix3d ta, tb;
    if (!normaliser(touches, ta) || !normaliser(targets, tb)) {
        return degenerate(i18n::text({"all points are the same", "所有点重合"}));
    }
    const auto n = static_cast<Eigen::Index>(touches.size());
    // At least 9 rows, so that the SVD yields all 9 singular values (4 points
    // give 8 equations; the extra row of zeros adds nothing).
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(std::max<Eigen::Index>(2 * n, 9), 9);
    for (Eigen::Index i = 0; i < n; ++i) {
        Eigen::Vector3d p =
            ta * Eigen::Vector3d(touches[static_cast<size_t>(i)].x, touches[static_cast<size_t>(i)].y, 1);
        Eigen::Vector3d q =
            tb * Eigen::Vector3d(targets[static_cast<size_t>(i)].x, targets[static_cast<size_t>(i)].y, 1);
        a.row(2 * i) << -p.x(), -p.y(), -1, 0, 0, 0, q.x() * p.x(), q.x() * p.y(), q.x();
        a.row(2 * i + 1) << 0, 0, 0, -p.x(), -p.y(), -1, q.y() * p.x(), q.y() * p.y(), q.y();
    }
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeFullV);
    const auto& s = svd.singularValues();
    // A unique solution leaves exactly one (near-)zero singular value: a
    // second one means a whole family of maps fits (points on a line, or
    // repeated).
    if (s.size() < 9 || s(7) < 1e-9 * s(0)) {
        return degenerate(i18n::text({"points on a line or repeated", "点共线或重复"}));
    }
    Eigen::VectorXd v = svd.matrixV().col(8);
    Eigen::Matrix3d hn;
    hn << v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8);
    Eigen::Matrix3d h = tb.inverse() * hn * ta;
    if (std::abs(h(2, 2)) < 1e-12 || std::abs(h.determinant()) < 1e-15 * std::pow(h.norm(), 3)) {
        return degenerate(i18n::text({"the fitted map folds the image", "拟合结果使画面折叠"}));
    }
    return from_matrix(h);
}

std::vector<point> grid_targets(double width, double height, int n, double margin) {
    std::vector<point> out;
    double steps = n - 1;
    for (int r = 0; r < n; ++r) {
        for (int c = 0; c < n; ++c) {
            out.push_back(
                {width * (margin + (1 - 2 * margin) * c / steps), height * (margin + (1 - 2 * margin) * r / steps)});
        }
    }
    return out;
}

std::vector<point> nine_targets(double width, double height, double margin) {
    return grid_targets(width, height, 3, margin);
}

result<accuracy> check_accuracy(const homography& map, std::span<const point> touches, std::span<const point> targets,
                                double units_per_mm_x, double units_per_mm_y) {
    if (touches.size() != targets.size() || touches.empty()) {
        return error(
            calibration_errc::mismatched,
            i18n::format({"{} touches for {} targets", "{} 次触摸对应 {} 个目标"}, touches.size(), targets.size()));
    }
    if (!(units_per_mm_x > 0) || !(units_per_mm_y > 0)) {
        return error(calibration_errc::not_finite,
                     i18n::text({"the board's resolution is unknown (its descriptor gives no physical size)",
                                 "白板分辨率未知（其描述符未给出物理尺寸）"}));
    }
    homography back = map.inverse();
    accuracy out;
    for (size_t i = 0; i < touches.size(); ++i) {
        point expected = back.apply(targets[i]);
        double dx = (touches[i].x - expected.x) / units_per_mm_x;
        double dy = (touches[i].y - expected.y) / units_per_mm_y;
        double e = std::hypot(dx, dy);
        out.errors_mm.push_back(e);
        out.max_mm = std::max(out.max_mm, e);
        out.mean_mm += e;
    }
    out.mean_mm /= static_cast<double>(touches.size());
    return out;
}

}  // namespace bbt::drivers::whiteboard
