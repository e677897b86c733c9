#include "npcl/app/daemon.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <filesystem>
#include <csignal>
#include <thread>
#include <vector>

#include "npcl/ari/events_client.hpp"
#include "npcl/ari/rest_call_control.hpp"
#include "npcl/ari/rest_client.hpp"
#include "npcl/http/health_routes.hpp"
#include "npcl/http/server.hpp"
#include "npcl/media/audiosocket_endpoint.hpp"
#include "npcl/media/audiosocket_server.hpp"
#include "npcl/media/port_allocator.hpp"
#include "npcl/media/rtp_endpoint.hpp"
#include "npcl/media/websocket_endpoint.hpp"
#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "npcl/realtime/client.hpp"
#include "npcl/store/store.hpp"
#include "npcl/tools/call_tools.hpp"
#include "npcl/tools/crm_tools.hpp"
#include "npcl/tools/npcl_tools.hpp"
#include "npcl/tools/registry.hpp"
#include "npcl/session/call_manager.hpp"

namespace npcl::app {

struct daemon::impl {
  explicit impl(config::settings s)
      : settings(std::move(s)),
        rest(ioc, settings.ari, metrics),
        control(rest, settings.ari.app),
        ports(std::make_shared<media::port_allocator>(settings.media.rtp_port_min, settings.media.rtp_port_max)),
        blocking(2),
        tools(blocking, std::chrono::seconds(5), metrics),
        prompts(settings.session.sounds_dir),
        locales(settings.session.locales_dir),
        manager(ioc, control,
                [this](executor strand, error_code& ec) { return open_endpoint(std::move(strand), ec); },
                settings.session, settings.media, metrics,
                [this](executor strand) -> std::unique_ptr<realtime::realtime_link> {
                  return std::make_unique<realtime::client>(std::move(strand), settings.realtime, metrics);
                },
                &tools, &prompts, &settings.vad,
                [this](session::call_report r) { save_record(std::move(r)); }, &locales),
        events(ioc, settings.ari, metrics,
               ari::events_handlers{[this](const ari::event& e) { manager.on_event(e); },
                                    [this] { manager.on_connected(); }, nullptr}),
        http_server(ioc, settings.http),
        lifecycle(net::make_strand(ioc)),
        signals(lifecycle, SIGTERM, SIGINT),
        grace_timer(lifecycle),
        watchdog_timer(ioc),
        work(net::make_work_guard(ioc)) {}

  config::settings settings;              // immutable after start-up
  net::io_context ioc;                    // the one event loop
  obs::metrics_registry metrics;
  ari::rest_client rest;
  ari::rest_call_control control;
  std::shared_ptr<media::port_allocator> ports;        // RTP: the per-call UDP port range
  std::shared_ptr<media::audiosocket_server> audiosocket;  // AudioSocket: the one TCP listener
  net::thread_pool blocking;              // database and CRM work, never on the event loop
  tools::registry tools;                  // functions offered to the model
  session::prompt_library prompts;        // recorded apology, filler, ... (read at start-up)
  session::locale_library locales;        // instructions and greeting per language (read at start-up)
  std::unique_ptr<store::store> db;       // consumers, bills, complaints, call records
  session::call_manager manager;
  ari::events_client events;
  http::server http_server;
  // Shutdown, the grace timer and finish() run here one at a time: a call
  // ending on another thread must not slip between "calls still active" and
  // arming the grace timer.
  net::strand<net::io_context::executor_type> lifecycle;
  net::signal_set signals;
  net::steady_timer grace_timer;          // SHUTDOWN_GRACE, then every call is ended
  net::steady_timer watchdog_timer;       // systemd WATCHDOG=1 pings
  net::executor_work_guard<net::io_context::executor_type> work;  // keeps run() alive until finish()
  std::atomic<bool> draining{false};
  std::atomic<bool> started{false};
  bool finished = false;                  // finish() ran (only touched on ioc via post)

  std::unique_ptr<media::media_endpoint> open_endpoint(executor strand, error_code& ec) {
    switch (settings.media.transport) {
      case media::transport_kind::audiosocket:
        return media::audiosocket_endpoint::open(std::move(strand), settings.media, audiosocket, ec,
                                                 settings.ari.connect_timeout);
      case media::transport_kind::websocket: {
        media::websocket_endpoint::server asterisk;
        // chan_websocket serves on Asterisk's HTTP server, normally ARI's;
        // a proxy in front of ARI may need another address.
        asterisk.host = settings.media.websocket_host.empty() ? settings.ari.host : settings.media.websocket_host;
        asterisk.port = settings.media.websocket_port ? settings.media.websocket_port : settings.ari.port;
        asterisk.username = settings.ari.username;
        asterisk.password = settings.ari.password;
        asterisk.connect_timeout = settings.ari.connect_timeout;
        return std::make_unique<media::websocket_endpoint>(std::move(strand), settings.media, asterisk);
      }
      default:
        return media::rtp_endpoint::open(std::move(strand), settings.media, ports, ec);
    }
  }

  // The call record is written on the blocking pool: SQLite/PostgreSQL never
  // run on the event loop.
  void save_record(session::call_report r) {
    if (!db) return;
    net::post(blocking, [this, r = std::move(r)] {
      store::call_record rec;
      rec.call_id = r.call_id;
      rec.caller_number = r.caller_number;
      rec.started = std::chrono::time_point_cast<std::chrono::seconds>(r.started);
      rec.ended = std::chrono::time_point_cast<std::chrono::seconds>(r.ended);
      rec.language = r.language;
      rec.outcome = r.outcome;
      rec.transcript_json = r.transcript_json;
      rec.tool_calls_json = r.tool_calls_json;
      rec.input_tokens = static_cast<std::int64_t>(r.input_tokens);
      rec.output_tokens = static_cast<std::int64_t>(r.output_tokens);
      try {
        db->save_call_record(rec);
      } catch (const std::exception& e) {
        metrics.get_counter("call_records_failed_total", "Call records the database refused").inc();
        spdlog::error("call {}: call record not saved: {}", r.call_id, e.what());
      }
    });
  }

  // Problems only visible once transport and format are combined; they stop
  // the daemon like a bad setting does.
  std::string media_problem() const {
    if (settings.media.transport == media::transport_kind::audiosocket)
      return media::audiosocket_endpoint::format_problem(settings.media);
    return {};
  }

  void wait_signal() {
    signals.async_wait([this](error_code ec, int signo) {
      if (ec) return;
      spdlog::info("received signal {}", signo);
      shutdown();
      wait_signal();
    });
  }

  void shutdown() {
    if (draining.exchange(true)) {
      spdlog::warn("second shutdown request: ending every call now");
      manager.end_all(session::outcome::shutdown);
      return;
    }
    sd_notify(0, "STOPPING=1");
    manager.begin_drain();
    auto active = manager.active();
    spdlog::info("shutting down: {} active call(s), grace {} s", active, settings.app.shutdown_grace.count());
    if (active == 0) {
      net::post(lifecycle, [this] { finish(); });
      return;
    }
    grace_timer.expires_after(settings.app.shutdown_grace);
    grace_timer.async_wait([this](error_code ec) {
      if (ec) return;
      spdlog::info("grace period over: ending {} call(s)", manager.active());
      manager.end_all(session::outcome::shutdown);
    });
  }

  void finish() {
    if (finished) return;
    finished = true;
    grace_timer.cancel();
    watchdog_timer.cancel();
    error_code ignored;
    signals.cancel(ignored);
    events.stop();
    http_server.stop();
    if (audiosocket) audiosocket->stop();
    rest.shutdown();
    work.reset();
    spdlog::info("all calls ended; exiting");
  }

  void arm_watchdog(std::chrono::microseconds period) {
    watchdog_timer.expires_after(period);
    watchdog_timer.async_wait([this, period](error_code ec) {
      if (ec) return;
      // The ping runs on the loop itself: a stuck loop stops the pings and
      // systemd restarts the daemon.
      sd_notify(0, "WATCHDOG=1");
      arm_watchdog(period);
    });
  }
};

daemon::daemon(config::settings settings) : impl_(std::make_unique<impl>(std::move(settings))) {}

daemon::~daemon() = default;

int daemon::run() {
  auto& d = *impl_;
  if (auto problem = d.media_problem(); !problem.empty()) {
    spdlog::critical("{}", problem);
    return 2;
  }
  if (d.settings.media.transport == media::transport_kind::rtp) {
    if (auto note = media::rtp_endpoint::send_back_note(d.settings.media); !note.empty()) spdlog::warn("{}", note);
  }
  if (d.settings.media.transport == media::transport_kind::audiosocket) {
    d.audiosocket = std::make_shared<media::audiosocket_server>(d.ioc.get_executor(), d.settings.media);
    if (auto ec = d.audiosocket->start()) {
      spdlog::critical("EXTERNAL_MEDIA_PORT {}: cannot listen on {} for AudioSocket: {}", d.settings.media.listen_port,
                       d.settings.media.bind_host, ec.message());
      return 1;
    }
  }
  try {
    if (d.settings.store.database_url.empty()) std::filesystem::create_directories(d.settings.store.data_dir);
    d.db = store::open_store(d.settings.store);
  } catch (const std::exception& e) {
    spdlog::critical("records: {}", e.what());
    return 1;
  }
  tools::add_call_tools(d.tools);
  if (d.settings.tools.backend == tools::tool_backend::http) {
    try {
      tools::add_crm_tools(d.tools, d.settings.tools, d.metrics);
    } catch (const std::exception& e) {
      spdlog::critical("TOOL_BACKEND=http: {}", e.what());
      return 1;
    }
    spdlog::info("tools answered by the CRM at {}:{}{}", d.settings.tools.endpoint.host, d.settings.tools.endpoint.port,
                 d.settings.tools.endpoint.tls ? " (TLS)" : "");
  } else {
    tools::add_npcl_tools(d.tools, *d.db);
  }
  if (d.prompts.size() == 0)
    spdlog::warn("SOUNDS_DIR {}: no recorded prompts; callers hear silence where an apology or filler belongs",
                 d.settings.session.sounds_dir);
  for (const auto& p : d.prompts.problems()) spdlog::debug("prompt skipped: {}", p);
  if (d.locales.size() == 0)
    spdlog::warn("LOCALES_DIR {}: no locale files; built-in English instructions are used",
                 d.settings.session.locales_dir);
  for (const auto& p : d.locales.problems()) spdlog::warn("locale skipped: {}", p);
  http::add_health_routes(
      d.http_server, [&d] { return d.events.connected() && !d.draining.load(); },
      [&d] { return d.metrics.render(); });
  if (auto ec = d.http_server.start()) {
    spdlog::critical("HTTP_PORT {}: cannot listen on {}: {}", d.settings.http.port, d.settings.http.host, ec.message());
    return 1;
  }
  d.manager.set_on_idle([&d] {
    if (d.draining.load()) net::post(d.lifecycle, [&d] { d.finish(); });
  });
  d.wait_signal();
  d.events.start();
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0)
    d.arm_watchdog(std::chrono::microseconds(watchdog_usec / 2));

  unsigned threads = d.settings.app.worker_threads ? d.settings.app.worker_threads
                                                   : std::max(1u, std::thread::hardware_concurrency());
  spdlog::info("npcl-assistant started: ARI {} app {}, HTTP {}:{}, RTP ports {}-{}, {} worker thread(s)",
               d.settings.ari.base_url, d.settings.ari.app, d.settings.http.host, d.http_server.port(),
               d.settings.media.rtp_port_min, d.settings.media.rtp_port_max, threads);
  sd_notify(0, "READY=1");
  d.started = true;
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&d] { d.ioc.run(); });
  d.ioc.run();
  for (auto& t : pool) t.join();
  // Call records still being written must reach the database before the
  // store goes away: nothing the caller gave us is lost.
  d.blocking.join();
  return 0;
}

void daemon::request_shutdown() {
  net::post(impl_->lifecycle, [this] { impl_->shutdown(); });
}

std::uint16_t daemon::http_port() const { return impl_->started ? impl_->http_server.port() : 0; }

bool daemon::started() const { return impl_->started.load(); }

session::call_manager& daemon::calls() { return impl_->manager; }

}  // namespace npcl::app
