#include "txflow/store/records.hpp"

#include <fmt/format.h>

namespace txflow::store {

std::string record_to_json(const Record& record) {
    std::string hex;
    hex.reserve(record.payload.size() * 2);
    for (char c : record.payload) fmt::format_to(std::back_inserter(hex), "{:02x}", static_cast<unsigned char>(c));
    return fmt::format(R"({{"seq":{},"type":{},"payload_hex":"{}"}})", record.seq, record.type, hex);
}

}  // namespace txflow::store
