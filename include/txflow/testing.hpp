#pragma once
/// @file
/// The test kit: fixtures and helpers to test scheduled code on a manual clock,
/// independent of the test framework. Link txflow::testing. Catch2 v2 matchers
/// are in txflow/testing/catch2.hpp; docs/testing.md is the manual.

#include "txflow/testing/event_log.hpp"
#include "txflow/testing/saga_script.hpp"
#include "txflow/testing/scheduler_fixture.hpp"
#include "txflow/testing/temp_dir.hpp"
#include "txflow/testing/time.hpp"
