#pragma once

// Reads one series of the process's metrics, so that a test can check how
// much a counter moved (the registry is process-wide: other tests count
// into it too, so tests compare before and after, never absolute values).

#include "metrics/metrics.hpp"

#include <sstream>
#include <string>

namespace fogbow::test {

/// The value of `series` (a name with its labels exactly as
/// prometheus-cpp prints them: alphabetical, a histogram's `le` last, as
/// in `name{a="x",b="y",le="0.5"}`) in `text`; 0 when the series is not
/// there yet.
inline double series_value(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (line.size() > series.size() && line.starts_with(series)
        && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return 0;
}

/// The same, read from a fresh scrape.
inline double series_value(const std::string& series) {
  return series_value(metrics::scrape(), series);
}

} // namespace fogbow::test
