//! Known bots by user agent: crawlers, HTTP libraries, link previewers and uptime monitors.
//!
//! A case-insensitive substring match over one lowercased copy of the user agent, in one pass:
//! at each position only the markers starting with that byte are compared. Headless browsers
//! (`HeadlessChrome`) are *not* bots here: real-browser end-to-end tests drive headless Chromium,
//! and a headless browser runs the tracker like a person's browser does. An empty user agent is
//! a bot: every browser sends one.

/// Lowercase markers of automated clients. `bot` alone covers Googlebot, bingbot, Slackbot,
/// Twitterbot, AhrefsBot, …; the rest are clients that do not say "bot".
const BOT_MARKERS: [&str; 32] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl/",
    "wget",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "axios",
    "node-fetch",
    "undici",
    "libwww-perl",
    "httpclient",
    "scrapy",
    "facebookexternalhit",
    "whatsapp",
    "embedly",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "preview",
    "scan",
    "phantomjs",
    "headlessshell",
    "feedfetcher",
    "ia_archiver",
];

/// Device names that contain a marker but are phones (the Cubot brand contains "bot").
const FALSE_POSITIVE_PREFIXES: [(&str, &str); 1] = [("bot", "cu")];

/// Longer user agents are cut here; every marker sits well within the first bytes.
const MAX_USER_AGENT_BYTES: usize = 1024;

pub fn is_bot(user_agent: &str) -> bool {
    let trimmed = user_agent.trim();
    if trimmed.is_empty() {
        return true;
    }
    let mut buffer = [0u8; MAX_USER_AGENT_BYTES];
    let length = trimmed.len().min(MAX_USER_AGENT_BYTES);
    for (lowered, byte) in buffer.iter_mut().zip(trimmed.as_bytes()) {
        *lowered = byte.to_ascii_lowercase();
    }
    let agent = &buffer[..length];
    (0..agent.len()).any(|start| {
        let first = agent[start];
        BOT_MARKERS.iter().any(|marker| {
            let marker = marker.as_bytes();
            marker[0] == first
                && agent[start..].starts_with(marker)
                && !is_false_positive(agent, start, marker)
        })
    })
}

fn is_false_positive(agent: &[u8], start: usize, marker: &[u8]) -> bool {
    FALSE_POSITIVE_PREFIXES.iter().any(|(flagged, prefix)| {
        flagged.as_bytes() == marker && agent[..start].ends_with(prefix.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1";
    const HEADLESS_CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36";
    const CUBOT_PHONE: &str = "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";

    #[test]
    fn real_browsers_are_not_bots() {
        for agent in [CHROME, FIREFOX, SAFARI_IPHONE, CUBOT_PHONE] {
            assert!(!is_bot(agent), "{agent}");
        }
    }

    #[test]
    fn headless_chrome_is_not_treated_as_a_bot() {
        assert!(!is_bot(HEADLESS_CHROME));
    }

    #[test]
    fn crawlers_and_http_libraries_are_bots() {
        for agent in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.32.3",
            "Go-http-client/2.0",
            "Java/17.0.2",
            "okhttp/4.12.0",
            "axios/1.7.7",
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
            "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
            "WhatsApp/2.23.20.0",
        ] {
            assert!(is_bot(agent), "{agent}");
        }
    }

    #[test]
    fn an_empty_user_agent_is_a_bot() {
        assert!(is_bot(""));
        assert!(is_bot("   "));
    }

    #[test]
    fn a_very_long_user_agent_does_not_panic() {
        assert!(!is_bot(&"Mozilla ".repeat(1000)));
    }
}
