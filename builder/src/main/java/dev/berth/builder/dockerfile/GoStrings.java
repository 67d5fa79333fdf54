package dev.berth.builder.dockerfile;

import java.util.List;

/**
 * The few Go string primitives whose exact behaviour the Dockerfile syntax depends on. Go and Java disagree
 * on what whitespace is ({@code unicode.IsSpace} includes U+0085 and U+00A0 but not U+001C..U+001F) and on
 * quoting, and buildkit's conformance data is written in Go's terms, so these are ported rather than
 * approximated with {@link Character#isWhitespace} or {@link String#strip}.
 */
final class GoStrings {
    private GoStrings() {}

    /** Go's {@code unicode.IsSpace}. */
    static boolean isSpace(int cp) {
        if (cp <= 0xFF) {
            return switch (cp) {
                case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0 -> true;
                default -> false;
            };
        }
        return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** Go's {@code strings.TrimSpace}. */
    static String trimSpace(String s) {
        return trimRightSpace(trimLeftSpace(s));
    }

    /** Go's {@code strings.TrimLeftFunc(s, unicode.IsSpace)}. */
    static String trimLeftSpace(String s) {
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!isSpace(cp)) {
                break;
            }
            i += Character.charCount(cp);
        }
        return s.substring(i);
    }

    static String trimRightSpace(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** Go's {@code strings.ToLower}: rune by rune, so U+0130 becomes a plain {@code i} as in Go. */
    static String toLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.toLowerCase(cp)));
        return b.toString();
    }

    static String toUpper(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.toUpperCase(cp)));
        return b.toString();
    }

    /** Go's {@code strconv.Quote}: printable runes (Go's {@code unicode.IsPrint}) are kept, others escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case 0x07 -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case 0x0B -> b.append("\\v");
                default -> {
                    if (isPrint(cp)) {
                        b.appendCodePoint(cp);
                    } else if (cp < ' ' || cp == 0x7F) {
                        b.append("\\x").append(hex(cp, 2));
                    } else if (Character.isSurrogate((char) cp) && cp < 0x10000) {
                        b.append("\\ufffd"); // a lone surrogate is not a valid rune; Go prints U+FFFD
                    } else if (cp < 0x10000) {
                        b.append("\\u").append(hex(cp, 4));
                    } else {
                        b.append("\\U").append(hex(cp, 8));
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Go's {@code fmt.Sprintf("%q", []string{...})}: {@code ["a" "b"]}. */
    static String quoteList(List<String> list) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                b.append(' ');
            }
            b.append(quote(list.get(i)));
        }
        return b.append(']').toString();
    }

    /** Go's {@code unicode.IsPrint}: letters, marks, numbers, punctuation, symbols and the ASCII space. */
    static boolean isPrint(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER,
                 Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER,
                 Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION,
                 Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> true;
            default -> false;
        };
    }

    private static String hex(int value, int digits) {
        String h = Integer.toHexString(value);
        return "0".repeat(Math.max(0, digits - h.length())) + h;
    }
}
