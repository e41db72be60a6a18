// The scheduler on PgStore (SchedulerOptions::store), knowing nothing of
// PostgreSQL: sagas run, snapshots are taken, and a new scheduler on the same
// schema sees the sagas as they ended.

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "store/pg_test_util.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/pg_store.hpp"

namespace pg_saga_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::PgSchema;
using txflow::test::RawConn;

namespace {

std::shared_ptr<txflow::store::Store> open_pg(const PgSchema& schema) {
    auto store = txflow::store::PgStore::open(schema.options());
    INFO((store ? "" : store.error().message));
    REQUIRE(store);
    return std::shared_ptr<txflow::store::Store>(std::move(*store));
}

SchedulerOptions options(std::shared_ptr<txflow::store::Store> store) {
    return SchedulerOptions{}
        .workers(2)
        .logger(txflow::test::quiet_logger())
        .store(std::move(store))
        .snapshot_every(4 << 10);
}

}  // namespace

TEST_CASE("pg: a scheduler keeps its sagas in PgStore; a new one on the same schema sees them", "[pg][saga]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "saga");
    auto saga = Saga("order")
                    .step(
                        "reserve", [](StepContext& ctx) { ctx.data()["reserved"] = true; }, [](StepContext&) {})
                    .step("charge",
                          [](StepContext& ctx) {
                              if (ctx.data()["fail"].get<bool>()) throw std::runtime_error("card declined");
                          })
                    .no_compensation()
                    .build();
    {
        auto store = open_pg(schema);
        Scheduler sched(options(store));
        sched.start();
        for (int i = 0; i < 40; ++i) {  // enough records for a few snapshots
            auto h = sched.start_saga(saga, {{"fail", false}}, "warmup-" + std::to_string(i));
            REQUIRE(h.wait(20s)->state == State::succeeded);
        }
        auto ok = sched.start_saga(saga, {{"fail", false}}, "good");
        REQUIRE(ok.wait(20s)->state == State::succeeded);
        auto bad = sched.start_saga(saga, {{"fail", true}}, "bad");
        REQUIRE(bad.wait(20s)->state == State::compensated);
        sched.stop(5s);
    }
    RawConn raw(*url);
    CHECK(raw.exec("SELECT count(*) FROM " + schema.table("txflow_snapshot")) == "1");

    Scheduler again(options(open_pg(schema)));
    auto good = again.saga("good");
    REQUIRE(good);
    CHECK(good->state == State::succeeded);
    CHECK(good->data["reserved"] == true);
    auto bad = again.saga("bad");
    REQUIRE(bad);
    CHECK(bad->state == State::compensated);
    CHECK(bad->error == "step 'charge' failed: card declined");
}

}  // namespace pg_saga_test
