#pragma once
// What the cluster worker tests share: options with short intervals on a
// test's own schema (tagged with the schema's name as application_name, so
// a test can find and terminate exactly its worker's backends), and a
// thread-safe record of what handlers saw (asserted on the test's thread).

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/pg_test_util.hpp"
#include "support/test_support.hpp"
#include "txflow/cluster/worker.hpp"

namespace txflow::test {

inline cluster::WorkerOptions worker_options(const PgSchema& schema) {
    cluster::WorkerOptions o;
    o.pg = schema.options();
    o.pg.url +=
        (o.pg.url.find('?') == std::string::npos ? "?" : "&") + std::string("application_name=") + schema.name();
    o.poll_interval = std::chrono::milliseconds(200);
    o.lease = std::chrono::seconds(5);
    o.retry_backoff = retry::fixed(std::chrono::milliseconds(0));
    o.reconnect_backoff = retry::exponential(std::chrono::milliseconds(20), 2.0, std::chrono::milliseconds(500));
    o.logger = quiet_logger("cluster");
    return o;
}

// Runs of each job id, as handlers report them.
class JobRunLog {
public:
    void ran(std::int64_t id) {
        std::lock_guard lock(mutex_);
        ++runs_[id];
    }
    [[nodiscard]] std::map<std::int64_t, int> runs() const {
        std::lock_guard lock(mutex_);
        return runs_;
    }
    [[nodiscard]] std::size_t distinct() const {
        std::lock_guard lock(mutex_);
        return runs_.size();
    }

private:
    mutable std::mutex mutex_;
    std::map<std::int64_t, int> runs_;
};

inline std::vector<store::NewJob> no_op_jobs(int n, const std::string& kind = "noop") {
    std::vector<store::NewJob> jobs(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        jobs[static_cast<std::size_t>(i)].kind = kind;
        jobs[static_cast<std::size_t>(i)].payload = std::to_string(i);
    }
    return jobs;
}

inline std::string count_where(const RawConn& raw, const PgSchema& schema, const std::string& where) {
    return raw.exec("SELECT count(*) FROM " + schema.table("txflow_jobs") + " WHERE " + where);
}

// Eventually, asserting on the test's thread.
#define CLUSTER_WAIT(cond, timeout) \
    REQUIRE(::txflow::test::eventually([&] { return (cond); }, (timeout), std::chrono::milliseconds(10)))

}  // namespace txflow::test
