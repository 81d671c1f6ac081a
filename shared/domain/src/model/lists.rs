//! Built-in lists that fit rules can name with `in_list`.

/// Consumer mail providers: a lead on one of these gave no company domain.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "t-online.de",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
];

/// Title words of people who do not buy: matched as substrings of the lower-cased title.
pub const NON_BUYER_TITLES: &[&str] = &[
    "student",
    "intern",
    "retired",
    "unemployed",
    "job seeker",
    "looking for work",
    "graduate assistant",
    "phd candidate",
];

/// The names `in_list` accepts.
pub const LIST_NAMES: &[&str] = &["free_mail", "competitors", "non_buyer_titles"];
