"""The rating screen: a small touchscreen facing the citizen at one counter (đánh giá mức độ
hài lòng). Four big buttons after each service, a thank-you, back to idle."""
