#include "store/demo_data.hpp"

#include <cstdio>

#include "npcl/obs/log.hpp"

namespace npcl::store::detail {

namespace {

// "YYYY-MM" of the month `back` months before the month of `t`.
std::string month_before(timestamp t, int back) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(t)};
  year_month ym = year_month{ymd.year(), ymd.month()} - months{back};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(ym.year()), static_cast<unsigned>(ym.month()));
  return buf;
}

}  // namespace

void write_demo_data(record_writer& writer, timestamp now) {
  // Consumer numbers 9990000001.. and mobiles 9000000001.. are kept for demo data only, and
  // every name says "Demo", so nobody mistakes these records for a real customer's.
  if (writer.consumer_exists("9990000001")) return;
  const char* sectors[] = {"Sector 1", "Sector 2", "Sector 3"};
  for (int i = 1; i <= 6; ++i) {
    consumer c;
    c.number = "999000000" + std::to_string(i);
    c.masked_name = "Demo Consumer " + std::to_string(i);
    c.registered_mobile = "900000000" + std::to_string(i);
    c.area = i <= 4 ? "Demo Nagar" : "Sample Vihar";
    c.sector = sectors[(i - 1) % 3];
    c.status = i == 6 ? consumer_status::disconnected : consumer_status::active;
    writer.upsert(c);
    for (int back = 3; back >= 1; --back) {
      bill b;
      b.consumer_number = c.number;
      b.period = month_before(now, back);
      b.amount_paise = 45'000 + i * 12'350 + back * 1'000;
      b.due_date = month_before(now, back - 1) + "-15";
      b.status = back > 1 ? bill_status::paid : (i % 2 == 0 ? bill_status::overdue : bill_status::unpaid);
      writer.upsert(b);
    }
  }
  using namespace std::chrono;
  outage fault;
  fault.area = "Demo Nagar";
  fault.sector = "Sector 2";
  fault.kind = outage_kind::unplanned;
  fault.start = floor<hours>(now) - hours{1};
  fault.eta = fault.start + hours{4};
  fault.note = "Demo: transformer fault, crew on site";
  writer.upsert(fault);
  outage planned;
  planned.area = "Sample Vihar";
  planned.kind = outage_kind::planned;
  planned.start = floor<days>(now) + days{1} + hours{4};  // 09:30 IST next day
  planned.eta = planned.start + hours{3};
  planned.note = "Demo: planned line maintenance";
  writer.upsert(planned);
  spdlog::info("store: demo data added (consumers 9990000001-9990000006, areas Demo Nagar and Sample Vihar)");
}

}  // namespace npcl::store::detail
