#pragma once
/// @file
/// A small std::expected stand-in: clang 14 (our fuzzer compiler) cannot use
/// libstdc++'s `<expected>`, and the cron parser needs a result type that works
/// inside constant evaluation.

#include <memory>
#include <type_traits>
#include <utility>

namespace txflow {

/// The error half of a Result, made with unexpected().
template <class E>
struct Unexpected {
    /// The error carried.
    E error;
};

/// Wraps an error so it converts to a failed Result.
template <class E>
constexpr Unexpected<std::decay_t<E>> unexpected(E&& error) {
    return {std::forward<E>(error)};
}

/// A value of type T or an error of type E, like C++23's std::expected (usable in constant evaluation).
template <class T, class E>
class [[nodiscard]] Result {
public:
    /// A successful result holding `value` (implicit, so `return value;` works).
    constexpr Result(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT: implicit by design
    /// A failed result holding `u.error` (implicit, so `return unexpected(e);` works).
    constexpr Result(Unexpected<E> u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

    /// Copies the value or the error.
    constexpr Result(const Result& other) : ok_(other.ok_) {
        if (ok_) std::construct_at(&value_, other.value_);
        else std::construct_at(&error_, other.error_);
    }
    /// Moves the value or the error.
    constexpr Result(Result&& other) noexcept : ok_(other.ok_) {
        if (ok_) std::construct_at(&value_, std::move(other.value_));
        else std::construct_at(&error_, std::move(other.error_));
    }
    /// Replaces the contents with `other`'s value or error.
    constexpr Result& operator=(Result other) noexcept {
        destroy();
        ok_ = other.ok_;
        if (ok_) std::construct_at(&value_, std::move(other.value_));
        else std::construct_at(&error_, std::move(other.error_));
        return *this;
    }
    constexpr ~Result() { destroy(); }

    /// True when the result holds a value.
    [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
    /// True when the result holds a value.
    constexpr explicit operator bool() const noexcept { return ok_; }

    /// The value; only valid when has_value().
    constexpr T& value() & { return value_; }
    /// The value; only valid when has_value().
    constexpr const T& value() const& { return value_; }
    /// The value, moved out; only valid when has_value().
    constexpr T&& value() && { return std::move(value_); }
    /// The value; only valid when has_value().
    constexpr T& operator*() & { return value_; }
    /// The value; only valid when has_value().
    constexpr const T& operator*() const& { return value_; }
    /// Member access to the value; only valid when has_value().
    constexpr T* operator->() { return &value_; }
    /// Member access to the value; only valid when has_value().
    constexpr const T* operator->() const { return &value_; }

    /// The error; only valid when !has_value().
    constexpr E& error() & { return error_; }
    /// The error; only valid when !has_value().
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
