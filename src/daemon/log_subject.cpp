#include "log_subject.hpp"

#include <cctype>

namespace txflow::daemon::detail {
namespace {

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The quoted name after the first "<noun> '" in `message`: "job 'a b' ..." -> "a b".
std::string_view quoted_after(std::string_view message, std::string_view noun) {
    std::size_t from = 0;
    while (true) {
        const std::size_t at = message.find(noun, from);
        if (at == std::string_view::npos) return {};
        const bool word_start = at == 0 || !is_word_char(message[at - 1]);
        const std::size_t open = at + noun.size();
        if (word_start && message.substr(open, 2).size() == 2 && message[open] == ' ' && message[open + 1] == '\'') {
            const std::size_t close = message.find('\'', open + 2);
            if (close == std::string_view::npos) return {};
            return message.substr(open + 2, close - open - 2);
        }
        from = at + noun.size();
    }
}

}  // namespace

LogFields fields_in_message(std::string_view message) {
    LogFields fields{};
    fields.job = quoted_after(message, "job");
    fields.saga_id = quoted_after(message, "saga");
    fields.step = quoted_after(message, "step");
    return fields;
}

}  // namespace txflow::daemon::detail
