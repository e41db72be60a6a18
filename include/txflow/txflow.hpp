#pragma once
// Everything txflow offers, in one include.

#include "txflow/core/clock.hpp"
#include "txflow/core/executor.hpp"
#include "txflow/cron/literal.hpp"
#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/policy/policy.hpp"
#include "txflow/result.hpp"
#include "txflow/scheduler.hpp"
