// The JSON-lines file exporter: one span a line, appended, flushed per batch.

#include "txflow/observe/exporters.hpp"

#include <fstream>
#include <stdexcept>

namespace txflow::observe {
namespace {

class JsonlExporter final : public BatchExporter {
public:
    JsonlExporter(const std::filesystem::path& path, BatchOptions options)
        : BatchExporter(std::move(options)), out_(path, std::ios::app) {
        if (!out_)
            throw std::runtime_error("JSON-lines span exporter: cannot open '" + path.string() + "' for appending");
    }
    ~JsonlExporter() override { shutdown(); }
    JsonlExporter(const JsonlExporter&) = delete;
    JsonlExporter& operator=(const JsonlExporter&) = delete;

private:
    bool send(const std::vector<Span>& batch) override {
        for (const auto& s : batch) out_ << to_json_line(s, options().service_name) << '\n';
        out_.flush();
        return static_cast<bool>(out_);
    }
    std::ofstream out_;
};

}  // namespace

std::shared_ptr<BatchExporter> make_jsonl_exporter(const std::filesystem::path& path, BatchOptions options) {
    return std::make_shared<JsonlExporter>(path, std::move(options));
}

}  // namespace txflow::observe
