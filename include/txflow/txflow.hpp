#pragma once
/// @file
/// Everything txflow offers, in one include.

#include "txflow/core/clock.hpp"
#include "txflow/core/executor.hpp"
#include "txflow/cron/literal.hpp"
#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/job.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/policy/policy.hpp"
#include "txflow/result.hpp"
#include "txflow/saga/atomic.hpp"
#include "txflow/saga/saga.hpp"
#include "txflow/saga/state.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"
#include "txflow/store/records.hpp"
#include "txflow/store/store.hpp"
#include "txflow/store/wal_store.hpp"
