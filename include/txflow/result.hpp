#pragma once
/// @file
/// A small std::expected stand-in: clang 14 (our fuzzer compiler) cannot use
/// libstdc++'s `<expected>`, and the cron parser needs a result type that works
/// inside constant evaluation.

#include <memory>
#include <type_traits>
#include <utility>

namespace txflow {

template <class E>
struct Unexpected {
    E error;
};

template <class E>
constexpr Unexpected<std::decay_t<E>> unexpected(E&& error) {
    return {std::forward<E>(error)};
}

template <class T, class E>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) : value_(std::move(value)), ok_(true) {}             // NOLINT: implicit by design
    constexpr Result(Unexpected<E> u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

    constexpr Result(const Result& other) : ok_(other.ok_) {
        if (ok_) std::construct_at(&value_, other.value_);
        else std::construct_at(&error_, other.error_);
    }
    constexpr Result(Result&& other) noexcept : ok_(other.ok_) {
        if (ok_) std::construct_at(&value_, std::move(other.value_));
        else std::construct_at(&error_, std::move(other.error_));
    }
    constexpr Result& operator=(Result other) noexcept {
        destroy();
        ok_ = other.ok_;
        if (ok_) std::construct_at(&value_, std::move(other.value_));
        else std::construct_at(&error_, std::move(other.error_));
        return *this;
    }
    constexpr ~Result() { destroy(); }

    [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }

    constexpr T& value() & { return value_; }
    constexpr const T& value() const& { return value_; }
    constexpr T&& value() && { return std::move(value_); }
    constexpr T& operator*() & { return value_; }
    constexpr const T& operator*() const& { return value_; }
    constexpr T* operator->() { return &value_; }
    constexpr const T* operator->() const { return &value_; }

    constexpr E& error() & { return error_; }
    constexpr const E& error() const& { return error_; }

private:
    constexpr void destroy() {
        if (ok_) std::destroy_at(&value_);
        else std::destroy_at(&error_);
    }

    union {
        T value_;
        E error_;
    };
    bool ok_;
};

}  // namespace txflow
