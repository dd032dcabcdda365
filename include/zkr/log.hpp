// Logging: zkr writes Boost.Log records and never installs sinks or filters.
//
// Every record carries two attributes an application can filter and format on:
// - "Channel" (std::string): "zkr.session", "zkr.client" (the ZooKeeper C client's own log),
//   "zkr.mutex", ... ; the keyword zkr::log::channel names it.
// - "Severity" (boost::log::trivial::severity_level); the keyword zkr::log::severity names it.
// Routine events are logged at debug or trace, state changes at info, problems at warning/error.
// Note Boost.Log's default behaviour: with no sink configured at all, records at info and above go
// to std::clog. Configure a sink (or call boost::log::core::get()->set_logging_enabled(false)) to
// decide where zkr's records go.
#pragma once

#include <boost/log/expressions/keyword.hpp>
#include <boost/log/trivial.hpp>

#include <string>

namespace zkr::log {

BOOST_LOG_ATTRIBUTE_KEYWORD(channel, "Channel", std::string)
BOOST_LOG_ATTRIBUTE_KEYWORD(severity, "Severity", boost::log::trivial::severity_level)

}  // namespace zkr::log
