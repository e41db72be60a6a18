// enqueue_batch's COPY path (big batches without unique keys or run_at):
// every byte of payloads and every character of kinds and queues survive
// COPY's text format; ids come back in input order; the rows get the
// defaults; a batch with a unique key still takes the INSERT path.

#include <string>
#include <vector>

#include "store/pg/queue_copy.hpp"
#include "store/pg_test_util.hpp"

namespace pg_queue_copy_test {

using namespace std::chrono_literals;
using namespace txflow::test;

TEST_CASE("a big batch goes in with COPY, byte for byte", "[pg][queue][copy]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "copy");
    auto queue = open_pg_queue(schema);
    const std::size_t n = txflow::store::pg::kCopyThreshold + 500;
    std::vector<txflow::store::NewJob> batch(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto& j = batch[i];
        j.kind = i % 2 == 0 ? "plain" : "tab\there\\back\nline\r";
        j.options.queue = i % 3 == 0 ? "q\\1" : "default";
        j.options.priority = static_cast<std::int16_t>(i % 5);
        j.options.max_attempts = 3;
        for (int b = 0; b < 256; ++b) j.payload += static_cast<char>((b + static_cast<int>(i)) % 256);
    }
    REQUIRE(txflow::store::pg::copy_fits(batch));
    auto ids = queue->enqueue_batch(batch);
    REQUIRE(ids);
    REQUIRE(ids->size() == n);
    for (std::size_t i = 1; i < n; ++i) REQUIRE((*ids)[i].id > (*ids)[i - 1].id);
    for (const auto& e : *ids) REQUIRE(e.inserted);
    RawConn raw(*url);
    const auto jobs = schema.table("txflow_jobs");
    CHECK(raw.exec("SELECT count(*) FROM " + jobs + " WHERE state = 'available' AND attempt = 0 AND run_at <= now()") ==
          std::to_string(n));
    for (std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{3}, n - 1}) {
        const auto id = std::to_string((*ids)[i].id);
        const auto& j = batch[i];
        CHECK(raw.exec("SELECT kind FROM " + jobs + " WHERE id = " + id) == j.kind);
        CHECK(raw.exec("SELECT queue FROM " + jobs + " WHERE id = " + id) == j.options.queue);
        CHECK(raw.exec("SELECT priority || ' ' || max_attempts FROM " + jobs + " WHERE id = " + id) ==
              std::to_string(j.options.priority) + " 3");
        CHECK(raw.exec("SELECT length(payload) FROM " + jobs + " WHERE id = " + id) == "256");
    }
    // The payload, byte for byte, through a claim.
    auto claimed = queue->claim("q\\1", 1, 30s);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
    CHECK(claimed->front().id == (*ids)[0].id);
    CHECK(claimed->front().payload == batch[0].payload);

    // A unique key anywhere: not COPY (it has no ON CONFLICT), the INSERT path keeps the key's rule.
    batch[7].options.unique_key = "only-once";
    CHECK_FALSE(txflow::store::pg::copy_fits(batch));
    auto again = queue->enqueue_batch(std::span(batch).subspan(7, 1));
    REQUIRE(again);
    auto twice = queue->enqueue_batch(std::span(batch).subspan(7, 1));
    REQUIRE(twice);
    CHECK(twice->front().id == again->front().id);
    CHECK_FALSE(twice->front().inserted);
}

}  // namespace pg_queue_copy_test
