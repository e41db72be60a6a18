// Schedule files with atomic transactions: what a valid one loads into, and
// each error with its JSON pointer and reason.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "txflow/schedule_file/schedule.hpp"

namespace transactions_file_test {

using namespace std::chrono_literals;
using txflow::schedule_file::parse_text;
using txflow::schedule_file::Problems;

namespace {

const std::string kParticipant =
    R"({"name": "bank-a", "prepare": {"argv": ["true"]}, "commit": {"argv": ["true"]}, "abort": {"argv": ["true"]}})";

// A document with one transaction (its text given) and one job that starts "transfer".
std::string with_transaction(const std::string& transaction, const std::string& job_extra = {}) {
    return R"({"version": 1, "transactions": [)" + transaction +
           R"(], "jobs": [{"name": "nightly", "cron": "0 2 * * *", "transaction": "transfer")" + job_extra + "}]}";
}

Problems problems_of(const std::string& text) {
    auto r = parse_text(text, "/srv/app");
    if (r) return {};
    return r.error();
}

}  // namespace

TEST_CASE("transactions file: a valid transaction and the job that starts it", "[config][validate][atomic]") {
    auto f = parse_text(with_transaction(R"({"name": "transfer", "prepare_timeout": "5s", "stall_after": 3,
        "participants": [)" + kParticipant + R"(, {"name": "bank-b", "prepare": {"argv": ["hold"]},
        "commit": {"argv": ["confirm"]}, "abort": {"argv": ["release"]}}]})",
                                         R"(, "input": {"amount": 10})"),
                        "/srv/app");
    REQUIRE(f);
    REQUIRE(f->transactions.size() == 1);
    const auto& t = f->transactions[0];
    CHECK(t.name == "transfer");
    CHECK(t.prepare_timeout == 5000ms);
    CHECK(t.stall_after == 3u);
    REQUIRE(t.participants.size() == 2);
    CHECK(t.participants[1].name == "bank-b");
    CHECK(t.participants[1].prepare.argv == std::vector<std::string>{"hold"});
    CHECK(t.participants[1].commit.argv == std::vector<std::string>{"confirm"});
    CHECK(t.participants[1].abort.argv == std::vector<std::string>{"release"});
    REQUIRE(f->jobs.size() == 1);
    CHECK(f->jobs[0].transaction == "transfer");
    CHECK(f->jobs[0].input["amount"] == 10);
    // The canonical form a reload compares holds the definition.
    CHECK(f->canonical(f->jobs[0])["transaction_definition"]["participants"].size() == 2);
    CHECK(f->find_transaction("transfer") == &t);
}

TEST_CASE("transactions file: every error has its pointer and reason", "[config][validate][atomic]") {
    struct Case {
        const char* what;
        std::string text;
        std::string pointer;
        std::string reason;
    };
    const std::string p = kParticipant;
    const std::vector<Case> cases{
        {"not an array", R"({"version": 1, "transactions": {}})", "/transactions",
         "expected an array of transactions, got object"},
        {"no participants", with_transaction(R"({"name": "transfer", "participants": []})"),
         "/transactions/0/participants", "a transaction needs at least one participant"},
        {"missing abort",
         with_transaction(R"({"name": "transfer", "participants": [{"name": "a", "prepare": {"argv": ["true"]},
             "commit": {"argv": ["true"]}}]})"),
         "/transactions/0/participants/0", "needs 'abort' (a command): a participant has prepare, commit and abort"},
        {"slash in a name",
         with_transaction(R"({"name": "transfer", "participants": [{"name": "a/b", "prepare": {"argv": ["true"]},
             "commit": {"argv": ["true"]}, "abort": {"argv": ["true"]}}]})"),
         "/transactions/0/participants/0/name", "must not contain '/': it separates the parts of an idempotency key"},
        {"duplicate participant", with_transaction(R"({"name": "transfer", "participants": [)" + p + ", " + p + "]}"),
         "/transactions/0/participants/1/name",
         "duplicate participant name 'bank-a' (first used at /transactions/0/participants/0/name)"},
        {"bad command", with_transaction(R"({"name": "transfer", "participants": [{"name": "a", "prepare": "true",
             "commit": {"argv": ["true"]}, "abort": {"argv": ["true"]}}]})"),
         "/transactions/0/participants/0/prepare",
         "expected a command object like {\"argv\": [\"program\", \"arg\"]}, got string \"true\""},
        {"zero timeout",
         with_transaction(R"({"name": "transfer", "prepare_timeout": "0s", "participants": [)" + p + "]}"),
         "/transactions/0/prepare_timeout", "must be positive"},
        {"stall_after 0", with_transaction(R"({"name": "transfer", "stall_after": 0, "participants": [)" + p + "]}"),
         "/transactions/0/stall_after", "0 is out of range 1-1000000"},
        {"unknown transaction", with_transaction(R"({"name": "transfr", "participants": [)" + p + "]}"),
         "/jobs/0/transaction", "no transaction named 'transfer' (did you mean 'transfr'?)"},
        {"saga and transaction",
         with_transaction(R"({"name": "transfer", "participants": [)" + p + "]}", R"(, "command": {"argv": ["true"]})"),
         "/jobs/0", "has both 'command' and 'transaction': a job runs one of them"},
        {"unknown key", with_transaction(R"({"name": "transfer", "participants": [)" + p + R"(], "retries": 3})"),
         "/transactions/0/retries", "unknown key 'retries'"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        INFO(c.text);
        const Problems problems = problems_of(c.text);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].pointer == c.pointer);
        CHECK(problems[0].reason == c.reason);
    }
}

}  // namespace transactions_file_test
