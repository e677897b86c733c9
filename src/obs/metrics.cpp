#include "npcl/obs/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npcl::obs {
namespace {

enum metric_kind : int { counter_kind, gauge_kind, histogram_kind };

constexpr std::string_view kind_name(int kind) {
  switch (kind) {
    case counter_kind: return "counter";
    case gauge_kind: return "gauge";
    default: return "histogram";
  }
}

bool is_name_char(char c, bool first, bool colon_allowed) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool is_valid_name(const std::string& name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, colon_allowed)) return false;
  }
  return true;
}

/// Label sets are keyed in name order so {a,b} and {b,a} name the same series.
labels normalise(const labels& l, int kind) {
  labels sorted = l;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const std::string& name = sorted[i].first;
    if (!is_valid_name(name, false) || name.rfind("__", 0) == 0) {
      throw std::invalid_argument("metrics: invalid label name '" + name + "'");
    }
    if (kind == histogram_kind && name == "le") {
      throw std::invalid_argument("metrics: label 'le' is reserved for histogram buckets");
    }
    if (i > 0 && sorted[i - 1].first == name) {
      throw std::invalid_argument("metrics: label '" + name + "' given twice");
    }
  }
  return sorted;
}

/// Escaping of the text format 0.0.4: HELP escapes backslash and newline,
/// label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

/// `{a="x",b="y"}` with an optional trailing `le`, or nothing for no labels.
void append_labels(std::string& out, const labels& l, const std::string* le = nullptr) {
  if (l.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  };
  for (const auto& [name, value] : l) add(name, value);
  if (le != nullptr) add("le", *le);
  out += '}';
}

void append_sample(std::string& out, std::string_view name, const labels& l, const std::string& value,
                   const std::string* le = nullptr) {
  out += name;
  append_labels(out, l, le);
  out += ' ';
  out += value;
  out += '\n';
}

template <class T>
T& series_in(std::map<labels, std::unique_ptr<T>>& series, labels key) {
  auto& slot = series[std::move(key)];
  if (!slot) slot = std::make_unique<T>();
  return *slot;
}

}  // namespace

void gauge::add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  // The +Inf bucket is always implicit; accept it spelled out too.
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram: bounds must be finite and strictly ascending");
    }
  }
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) noexcept {
  // A NaN would poison _sum for the rest of the process's life.
  if (std::isnan(v)) return;
  const auto index = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t histogram::count() const noexcept { return count_.load(std::memory_order_relaxed); }

double histogram::sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

std::vector<std::uint64_t> histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

struct metrics_registry::family {
  int kind;                  ///< metric_kind
  std::string help;          ///< the # HELP text given on first use
  std::vector<double> bounds;  ///< histogram upper bounds shared by every series of the family
  std::map<labels, std::unique_ptr<counter>> counters;      ///< series by sorted labels
  std::map<labels, std::unique_ptr<gauge>> gauges;          ///< series by sorted labels
  std::map<labels, std::unique_ptr<histogram>> histograms;  ///< series by sorted labels
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

metrics_registry::family& metrics_registry::family_for(const std::string& name, const std::string& help, int kind) {
  if (!is_valid_name(name, true)) throw std::invalid_argument("metrics: invalid metric name '" + name + "'");
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, std::make_unique<family>(family{kind, help, {}, {}, {}, {}})).first;
  } else if (it->second->kind != kind) {
    throw std::logic_error("metrics: '" + name + "' is a " + std::string(kind_name(it->second->kind)) +
                           ", not a " + std::string(kind_name(kind)));
  }
  return *it->second;
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  labels key = normalise(l, counter_kind);
  std::lock_guard lock(mutex_);
  return series_in(family_for(name, help, counter_kind).counters, std::move(key));
}

gauge& metrics_registry::get_gauge(const std::string& name, const std::string& help, const labels& l) {
  labels key = normalise(l, gauge_kind);
  std::lock_guard lock(mutex_);
  return series_in(family_for(name, help, gauge_kind).gauges, std::move(key));
}

histogram& metrics_registry::get_histogram(const std::string& name, const std::string& help,
                                           const std::vector<double>& bounds, const labels& l) {
  labels key = normalise(l, histogram_kind);
  histogram candidate(bounds);  // validates and normalises the bounds outside the lock
  std::lock_guard lock(mutex_);
  family& f = family_for(name, help, histogram_kind);
  if (f.histograms.empty()) {
    f.bounds = candidate.bounds();
  } else if (f.bounds != candidate.bounds()) {
    throw std::logic_error("metrics: histogram '" + name + "' requested with different bounds");
  }
  auto& series = f.histograms[std::move(key)];
  if (!series) series = std::make_unique<histogram>(f.bounds);
  return *series;
}

std::string metrics_registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kind_name(f->kind);
    out += '\n';
    for (const auto& [l, c] : f->counters) append_sample(out, name, l, fmt::format("{}", c->value()));
    for (const auto& [l, g] : f->gauges) append_sample(out, name, l, format_value(g->value()));
    for (const auto& [l, h] : f->histograms) {
      // _count is taken from the +Inf bucket of the same snapshot, so the
      // exposition stays self-consistent while other threads observe.
      const std::vector<std::uint64_t> cumulative = h->cumulative_counts();
      for (std::size_t i = 0; i < cumulative.size(); ++i) {
        const std::string le = i < h->bounds().size() ? format_value(h->bounds()[i]) : "+Inf";
        append_sample(out, name + "_bucket", l, fmt::format("{}", cumulative[i]), &le);
      }
      append_sample(out, name + "_sum", l, format_value(h->sum()));
      append_sample(out, name + "_count", l, fmt::format("{}", cumulative.back()));
    }
  }
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace npcl::obs
