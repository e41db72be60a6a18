#pragma once
// PgQueue's state, shared by its two files: queue_enqueue.cpp (open, the
// enqueues) and queue_claim.cpp (claims, the fenced updates, the rescuer).

#include <mutex>
#include <string>

#include "store/pg/connection.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::store {

struct PgQueue::Impl {
    PgOptions options;
    std::string jobs;  // "<schema>".txflow_jobs
    std::mutex mutex;  // one statement at a time on conn
    pg::Connection conn;

    explicit Impl(pg::Connection c) : conn(std::move(c)) {}
};

}  // namespace txflow::store
