#ifndef LOOPVIZ_CNCURSES_SHIM_H
#define LOOPVIZ_CNCURSES_SHIM_H

// Wide-character API (add_wch, cchar_t, setcchar) needs this before curses.h.
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

// Swift 6 cannot read ncurses' mutable globals (not concurrency-safe) nor expand its
// function-like macros, so the renderer reaches them through these functions.
static inline WINDOW *lv_stdscr(void) { return stdscr; }
static inline int lv_lines(void) { return LINES; }
static inline int lv_cols(void) { return COLS; }
static inline int lv_color_pairs(void) { return COLOR_PAIRS; }
static inline int lv_colors(void) { return COLORS; }
static inline attr_t lv_color_pair(short n) { return (attr_t)COLOR_PAIR(n); }
static inline attr_t lv_a_bold(void) { return A_BOLD; }
static inline attr_t lv_a_dim(void) { return A_DIM; }
static inline attr_t lv_a_reverse(void) { return A_REVERSE; }
static inline attr_t lv_a_underline(void) { return A_UNDERLINE; }
static inline int lv_key_resize(void) { return KEY_RESIZE; }
static inline int lv_key_left(void) { return KEY_LEFT; }
static inline int lv_key_right(void) { return KEY_RIGHT; }
static inline int lv_key_up(void) { return KEY_UP; }
static inline int lv_key_down(void) { return KEY_DOWN; }
static inline int lv_key_home(void) { return KEY_HOME; }
static inline int lv_key_end(void) { return KEY_END; }
static inline int lv_key_npage(void) { return KEY_NPAGE; }
static inline int lv_key_ppage(void) { return KEY_PPAGE; }
static inline int lv_key_backspace(void) { return KEY_BACKSPACE; }
static inline int lv_key_enter(void) { return KEY_ENTER; }
static inline int lv_err(void) { return ERR; }
static inline FILE *lv_stdin(void) { return stdin; }

// Draws one wide character with attributes at (y, x); setcchar needs a NUL-terminated array.
static inline int lv_put_wchar(int y, int x, wchar_t ch, attr_t attrs, short pair) {
    cchar_t cell;
    wchar_t text[2] = { ch, 0 };
    setcchar(&cell, text, attrs, pair, NULL);
    return mvadd_wch(y, x, &cell);
}

#endif
