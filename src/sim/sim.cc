#include "sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>

#include "blanks/demand.h"

namespace ektp::sim {
namespace {

// ---- Counter-based random streams ------------------------------------------

// What a draw is for; part of every draw's key, so adding a draw of one kind
// never shifts the draws of another.
enum class Stream : uint64_t {
  kArrivalGap = 1,
  kArrivalKind,
  kArrivalStation,
  kBacklogAge,
  kLinkStart,
  kLinkUp,
  kLinkDown,
  kReturn,
  kReturnHour,
  kPickup,
  kPickupHour,
  kSuketHour,
  kSpoil,
};

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Draws {
 public:
  explicit Draws(uint64_t seed) : seed_(Mix(seed)) {}
  // Uniform in [0, 1), a pure function of (seed, stream, id, k).
  double U(Stream stream, uint64_t id, uint64_t k = 0) const {
    uint64_t x = Mix(seed_ ^ Mix(static_cast<uint64_t>(stream) * 0xd1b54a32d192ed03ULL ^ Mix(id * 0x8cb92ba72f3d8dd7ULL + k)));
    return static_cast<double>(x >> 11) * 0x1.0p-53;
  }
  double Exp(double mean, Stream stream, uint64_t id, uint64_t k = 0) const {
    return -mean * std::log1p(-U(stream, id, k));
  }

 private:
  uint64_t seed_;
};

// ---- Calendar ----------------------------------------------------------------

class Calendar {
 public:
  explicit Calendar(const Scenario& s) : s_(s), hours_per_day_(s.close_hour - s.open_hour) {}
  bool OpenDay(int64_t day) const { return day % 7 < s_.open_days; }
  bool OpenAt(double t) const {
    int64_t day = static_cast<int64_t>(std::floor(t / 24));
    double hod = t - day * 24.0;
    return OpenDay(day) && hod >= s_.open_hour && hod < s_.close_hour;
  }
  // `t` if the office is open then; otherwise a time (at fraction u of the
  // opening hours) of the next open day.
  double NextOpen(double t, double u) const {
    if (t < 0) t = 0;
    if (OpenAt(t)) return t;
    int64_t day = static_cast<int64_t>(std::floor(t / 24));
    if (!(OpenDay(day) && t - day * 24.0 < s_.open_hour)) {
      ++day;
      while (!OpenDay(day)) ++day;
    }
    return day * 24.0 + s_.open_hour + u * hours_per_day_;
  }
  // Real time (hours) of `open_hours` of opening time counted from day 0.
  double FromOpenTime(double open_hours) const {
    auto open_day = static_cast<int64_t>(open_hours / hours_per_day_);
    double within = open_hours - open_day * hours_per_day_;
    int64_t day = open_day / s_.open_days * 7 + open_day % s_.open_days;
    return day * 24.0 + s_.open_hour + within;
  }
  double OpenHoursPerYear() const { return hours_per_day_ * s_.open_days * 365.0 / 7; }

 private:
  const Scenario& s_;
  int hours_per_day_;
};

// ---- Inputs: everything random, generated once for both modes -----------------

enum class Kind : uint8_t { kFirst, kReplacement, kMoveIn };

struct Resident {
  double arrival_h = 0;  // the day-0 backlog: when it was recorded (negative)
  int station = 0;
  Kind kind = Kind::kFirst;
};

struct Inputs {
  int64_t backlog = 0;              // residents [0, backlog) are print_ready at day 0, oldest first
  std::vector<Resident> residents;  // backlog, then arrivals in time order
  int hours = 0;
  std::vector<std::vector<float>> link_up;  // [station][hour]: share of the hour the link is up
  std::vector<float> central_up;            // [hour]: share of the hour central is on
  std::vector<int64_t> shipped_on_day;      // [day]
  double daily_rate = 0;                    // expected arrivals per calendar day
};

// Share of [h, h+1) not covered by `down` (sorted, disjoint intervals).
void FillUp(const std::vector<std::pair<double, double>>& down, std::vector<float>& up) {
  for (auto [a, b] : down) {
    for (int64_t h = std::max<int64_t>(0, static_cast<int64_t>(std::floor(a)));
         h < static_cast<int64_t>(up.size()) && h < b; ++h) {
      double overlap = std::min<double>(b, h + 1) - std::max<double>(a, h);
      if (overlap > 0) up[h] = std::max(0.0f, up[h] - static_cast<float>(overlap));
    }
  }
}

Inputs Generate(const Scenario& s, int64_t population, int64_t backlog, const Draws& draws) {
  Calendar calendar(s);
  Inputs in;
  in.hours = s.days * 24;
  in.backlog = backlog;
  const double first_share = 1.0 / s.cohort_years;
  const double per_year = population * (first_share + s.replacement_rate + s.move_rate);
  in.daily_rate = per_year / 365;

  std::vector<double> ages(backlog);
  for (int64_t i = 0; i < backlog; ++i) ages[i] = draws.U(Stream::kBacklogAge, i) * s.backlog_age_days * 24;
  std::sort(ages.begin(), ages.end(), std::greater<>());
  for (int64_t i = 0; i < backlog; ++i) in.residents.push_back({-ages[i], 0, Kind::kFirst});

  // A Poisson process in opening time, mapped to the calendar.
  const double per_open_hour = per_year / calendar.OpenHoursPerYear();
  double open_time = 0;
  for (uint64_t k = 0;; ++k) {
    open_time += draws.Exp(1.0 / per_open_hour, Stream::kArrivalGap, 0, k);
    double t = calendar.FromOpenTime(open_time);
    if (t >= in.hours) break;
    Resident r;
    r.arrival_h = t;
    r.station = static_cast<int>(draws.U(Stream::kArrivalStation, k) * s.stations);
    double u = draws.U(Stream::kArrivalKind, k) * (first_share + s.replacement_rate + s.move_rate);
    r.kind = u < first_share ? Kind::kFirst : u < first_share + s.replacement_rate ? Kind::kReplacement : Kind::kMoveIn;
    in.residents.push_back(r);
  }

  // Each station's link alternates up and down, exponential times; it starts
  // up with the long-run share of up time.
  for (int station = 0; station < s.stations; ++station) {
    double up_mean = station == 0 ? s.office_link_up_hours : s.link_up_hours;
    double down_mean = station == 0 ? s.office_link_down_hours : s.link_down_hours;
    std::vector<std::pair<double, double>> down;
    bool up = draws.U(Stream::kLinkStart, station) < up_mean / (up_mean + down_mean);
    double t = 0;
    for (uint64_t k = 0; t < in.hours; ++k) {
      double length = draws.Exp(up ? up_mean : down_mean, up ? Stream::kLinkUp : Stream::kLinkDown, station, k);
      if (!up) down.emplace_back(t, t + length);
      t += length;
      up = !up;
    }
    in.link_up.emplace_back(in.hours, 1.0f);
    FillUp(down, in.link_up.back());
  }
  std::vector<std::pair<double, double>> off;
  for (const Window& w : s.maintenance) off.emplace_back(w.start_day * 24, (w.start_day + w.days) * 24);
  in.central_up.assign(in.hours, 1.0f);
  FillUp(off, in.central_up);

  in.shipped_on_day.assign(s.days, 0);
  for (const Shipment& shipment : s.shipments) {
    if (shipment.day < s.days) in.shipped_on_day[shipment.day] += shipment.count;
  }
  return in;
}

// ---- One mode over the inputs -----------------------------------------------

enum class Stage : uint8_t { kNotArrived, kNotRecorded, kUnsynced, kProcessing, kReady, kPrinted, kCarded };
enum class EventKind : uint8_t { kVisit, kReady, kPickup, kSuket };

struct Event {
  double t;
  uint64_t seq;  // ties broken by scheduling order, so the run is deterministic
  EventKind kind;
  int64_t id;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

class Run {
 public:
  Run(const Scenario& s, const Inputs& in, const Draws& draws, Mode mode)
      : s_(s), in_(in), draws_(draws), mode_(mode), calendar_(s) {
    size_t n = in.residents.size();
    stage_.assign(n, Stage::kNotArrived);
    carded_h_.assign(n, std::numeric_limits<double>::infinity());
    attempts_.assign(n, 0);
    suket_.assign(n, false);
    queues_.resize(s.stations);
    outbox_.resize(s.stations);
    enroll_credit_.assign(s.stations, 0);
    result_.mode = mode;
  }

  ModeResult Go(const ProgressFn& progress) {
    for (int64_t id = 0; id < in_.backlog; ++id) {
      stage_[id] = Stage::kReady;
      ready_.push_back(id);
      // Those recorded long enough ago already carry a Suket.
      if (-in_.residents[id].arrival_h >= s_.suket_after_days * 24) {
        suket_[id] = true;
        ++suket_holders_;
      }
    }
    count_[Stage::kReady] = in_.backlog;
    arrived_ = in_.backlog;
    for (int64_t id = in_.backlog; id < static_cast<int64_t>(in_.residents.size()); ++id) {
      Schedule(in_.residents[id].arrival_h, EventKind::kVisit, id);
    }
    for (int64_t hour = 0; hour < in_.hours; ++hour) {
      if (hour % 24 == 0) StartDay(static_cast<int>(hour / 24));
      Hour(hour);
      if (hour % 24 == 23) {
        EndDay(static_cast<int>(hour / 24));
        if (progress) progress(mode_, static_cast<int>(hour / 24) + 1, s_.days);
      }
    }
    result_.held_up = std::min(count_[Stage::kReady], on_hand_);
    result_.shortfall = std::max<int64_t>(0, Need() - on_hand_);
    for (size_t id = 0; id < stage_.size(); ++id) {
      if (stage_[id] == Stage::kNotArrived) continue;
      result_.wait_days.push_back((carded_h_[id] - in_.residents[id].arrival_h) / 24);
    }
    std::sort(result_.wait_days.begin(), result_.wait_days.end());
    return std::move(result_);
  }

 private:
  bool online_only() const { return mode_ == Mode::kOnlineOnly; }
  // Share of the hour a station can reach central.
  double Reach(int station, int64_t hour) const { return in_.link_up[station][hour] * in_.central_up[hour]; }

  void Schedule(double t, EventKind kind, int64_t id) { events_.push({t, seq_++, kind, id}); }
  void Move(int64_t id, Stage to) {
    --count_[stage_[id]];
    ++count_[to];
    stage_[id] = to;
  }
  // A resident turned away comes back after a few days, within opening hours.
  void SendHome(int64_t id, double t, EventKind kind) {
    ++result_.sent_home;
    uint64_t k = attempts_[id]++;
    double back = t + draws_.Exp(s_.return_days * 24, Stream::kReturn, id, k);
    Schedule(calendar_.NextOpen(back, draws_.U(Stream::kReturnHour, id, k)), kind, id);
  }
  // Processing at central takes central_hours of central's up time.
  double CentralDone(double t) const {
    double done = t + s_.central_hours;
    for (const Window& w : s_.maintenance) {
      double a = w.start_day * 24, b = (w.start_day + w.days) * 24;
      if (a < done && b > t) done += b - std::max(a, t);
    }
    return done;
  }

  void StartDay(int day) {
    int64_t shipped = in_.shipped_on_day[day];
    on_hand_ += shipped;
    shipped_ += shipped;
    // The blanks planner's shortage alert (blanks/demand.h): blanks on hand
    // below the backlog at central plus the arrivals expected in the lead time.
    if (result_.resupply_day < 0 && on_hand_ < Need()) result_.resupply_day = day;
  }
  int64_t Need() const {
    return count_[Stage::kReady] + count_[Stage::kProcessing] + blanks::NeedDuringLead(in_.daily_rate, s_.lead_days);
  }

  void Hour(int64_t hour) {
    while (!events_.empty() && events_.top().t < hour + 1) {
      Event e = events_.top();
      events_.pop();
      Handle(e, hour);
    }
    if (!calendar_.OpenAt(hour + 0.5)) return;
    for (int station = 0; station < s_.stations; ++station) Enroll(station, hour);
    if (!online_only()) {
      for (int station = 0; station < s_.stations; ++station) {
        if (Reach(station, hour) <= 0) continue;
        for (int64_t id : outbox_[station]) {
          Move(id, Stage::kProcessing);
          Schedule(CentralDone(hour + 0.5), EventKind::kReady, id);
        }
        outbox_[station].clear();
      }
    }
    Print(hour);
    Pickup(hour);
  }

  void Handle(const Event& e, int64_t hour) {
    switch (e.kind) {
      case EventKind::kVisit:
        if (stage_[e.id] == Stage::kNotArrived) {
          stage_[e.id] = Stage::kNotRecorded;
          ++count_[Stage::kNotRecorded];
          ++arrived_;
        }
        queues_[in_.residents[e.id].station].push_back(e.id);
        break;
      case EventKind::kReady:
        Move(e.id, Stage::kReady);
        ready_.push_back(e.id);
        break;
      case EventKind::kPickup:
        pickup_queue_.push_back(e.id);
        break;
      case EventKind::kSuket:
        if (stage_[e.id] == Stage::kPrinted || stage_[e.id] == Stage::kCarded || suket_[e.id]) break;
        // Online-only, the Suket is printed from central's record at the office.
        if (online_only() && Reach(0, hour) <= 0) {
          SendHome(e.id, e.t, EventKind::kSuket);
          break;
        }
        suket_[e.id] = true;
        ++suket_holders_;
        ++result_.suket_issued;
        break;
    }
  }

  void Enroll(int station, int64_t hour) {
    std::deque<int64_t>& queue = queues_[station];
    const double reach = online_only() ? Reach(station, hour) : 1.0;
    if (reach <= 0) {  // online-only with no link this hour: nothing can be recorded
      for (int64_t id : queue) SendHome(id, hour + 0.5, EventKind::kVisit);
      queue.clear();
      return;
    }
    double& credit = enroll_credit_[station];
    credit = std::min(credit + s_.enroll_per_hour * reach, s_.enroll_per_hour);
    while (credit >= 1 && !queue.empty()) {
      credit -= 1;
      int64_t id = queue.front();
      queue.pop_front();
      double t = hour + 0.5;
      if (online_only()) {
        Move(id, Stage::kProcessing);
        Schedule(CentralDone(t), EventKind::kReady, id);
      } else {
        Move(id, Stage::kUnsynced);
        outbox_[station].push_back(id);
      }
      Schedule(calendar_.NextOpen(t + s_.suket_after_days * 24, draws_.U(Stream::kSuketHour, id)), EventKind::kSuket, id);
    }
  }

  // The office prints the oldest print_ready records first, one blank each.
  // Online-only it reads each record from central as it prints; offline-first
  // it prints the jobs it prefetched (as many as it holds blanks for)
  // whenever the link was up.
  void Print(int64_t hour) {
    const double reach = Reach(0, hour);
    double rate = s_.printer_per_hour;
    if (online_only()) {
      rate *= reach;
    } else if (reach > 0) {
      prefetched_ = std::min<int64_t>(on_hand_, static_cast<int64_t>(ready_.size()));
    }
    print_credit_ = std::min(print_credit_ + rate, s_.printer_per_hour);
    while (print_credit_ >= 1 && on_hand_ > 0 && !ready_.empty() && (online_only() || prefetched_ > 0)) {
      print_credit_ -= 1;
      int64_t id = ready_.front();
      --on_hand_;
      ++used_;
      if (draws_.U(Stream::kSpoil, id, attempts_[id]++) < s_.spoil_rate) {
        ++spoiled_;
        continue;  // the same record is printed again on a new blank
      }
      ready_.pop_front();
      if (prefetched_ > 0) --prefetched_;
      Move(id, Stage::kPrinted);
      ++result_.cards_printed;
      double t = hour + 0.5 + draws_.Exp(s_.pickup_days * 24, Stream::kPickup, id);
      Schedule(calendar_.NextOpen(t, draws_.U(Stream::kPickupHour, id)), EventKind::kPickup, id);
    }
  }

  // Hand-over: a fingerprint check and activation. Online-only, activation
  // needs central; offline-first it completes at the office and syncs later.
  void Pickup(int64_t hour) {
    const double reach = online_only() ? Reach(0, hour) : 1.0;
    if (reach <= 0) {
      for (int64_t id : pickup_queue_) SendHome(id, hour + 0.5, EventKind::kPickup);
      pickup_queue_.clear();
      return;
    }
    pickup_credit_ = std::min(pickup_credit_ + s_.pickup_per_hour * reach, s_.pickup_per_hour);
    while (pickup_credit_ >= 1 && !pickup_queue_.empty()) {
      pickup_credit_ -= 1;
      int64_t id = pickup_queue_.front();
      pickup_queue_.pop_front();
      Move(id, Stage::kCarded);
      carded_h_[id] = hour + 0.5;
      if (suket_[id]) --suket_holders_;
    }
  }

  void EndDay(int day) {
    Day d;
    d.day = day;
    d.arrived = arrived_;
    d.not_recorded = count_[Stage::kNotRecorded];
    d.unsynced = count_[Stage::kUnsynced];
    d.processing = count_[Stage::kProcessing];
    d.print_ready = count_[Stage::kReady];
    d.printed = count_[Stage::kPrinted];
    d.carded = count_[Stage::kCarded];
    d.blanks_shipped = shipped_;
    d.blanks_used = used_;
    d.blanks_spoiled = spoiled_;
    d.blanks_on_hand = on_hand_;
    d.suket_holders = suket_holders_;
    result_.days.push_back(d);
  }

  struct StageCounts {
    int64_t n[7] = {};
    int64_t& operator[](Stage stage) { return n[static_cast<int>(stage)]; }
    int64_t operator[](Stage stage) const { return n[static_cast<int>(stage)]; }
  };

  const Scenario& s_;
  const Inputs& in_;
  const Draws& draws_;
  const Mode mode_;
  const Calendar calendar_;
  ModeResult result_;

  std::vector<Stage> stage_;
  std::vector<double> carded_h_;
  std::vector<uint32_t> attempts_;  // per resident: the k of its next return or spoil draw
  std::vector<bool> suket_;
  StageCounts count_;
  int64_t arrived_ = 0;

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  std::vector<std::deque<int64_t>> queues_;  // per station: residents waiting to enrol
  std::vector<std::vector<int64_t>> outbox_;  // per station: recorded, not yet at central
  std::vector<double> enroll_credit_;
  std::deque<int64_t> ready_;                 // print_ready, oldest first
  std::deque<int64_t> pickup_queue_;
  int64_t prefetched_ = 0;
  double print_credit_ = 0;
  double pickup_credit_ = 0;
  int64_t on_hand_ = 0, shipped_ = 0, used_ = 0, spoiled_ = 0, suket_holders_ = 0;
};

Status Bad(std::string_view knob, std::string_view rule) {
  return InvalidArgument(std::string(knob) + " " + std::string(rule));
}

}  // namespace

std::string_view ModeName(Mode mode) { return mode == Mode::kOnlineOnly ? "online-only" : "offline-first"; }
std::string_view ModeLabel(Mode mode) { return mode == Mode::kOnlineOnly ? "hanya daring" : "luring dulu"; }

Status Validate(const Scenario& s, const RegionRegistry& regions) {
  const Region* region = regions.Find(s.regency);
  if (region == nullptr || region->level != RegionLevel::kRegency) {
    return NotFound("regency '" + s.regency + "' is not a Kemendagri regency code (e.g. 35.21)");
  }
  if (!regions.PopulationOf(s.regency)) return NotFound("regency " + s.regency + " has no population figure");
  if (s.days < 1 || s.days > 3660) return Bad("days", "must be between 1 and 3660");
  if (!(s.cohort_years > 0)) return Bad("cohort-years", "must be positive");
  if (!(s.replacement_rate >= 0 && s.replacement_rate <= 1)) return Bad("replacement-rate", "must be between 0 and 1");
  if (!(s.move_rate >= 0 && s.move_rate <= 1)) return Bad("move-rate", "must be between 0 and 1");
  if (s.backlog > 10'000'000) return Bad("backlog", "must be at most 10000000");
  if (s.backlog_age_days < 0) return Bad("backlog-age-days", "must not be negative");
  if (s.stations < 1 || s.stations > 100) return Bad("stations", "must be between 1 and 100");
  if (s.open_hour < 0 || s.close_hour > 24 || s.open_hour >= s.close_hour) {
    return Bad("open-hour/close-hour", "must satisfy 0 <= open-hour < close-hour <= 24");
  }
  if (s.open_days < 1 || s.open_days > 7) return Bad("open-days", "must be between 1 and 7");
  for (auto [knob, value] : {std::pair<const char*, double>{"enroll-per-hour", s.enroll_per_hour},
                             {"return-days", s.return_days},
                             {"link-up-hours", s.link_up_hours},
                             {"link-down-hours", s.link_down_hours},
                             {"office-link-up-hours", s.office_link_up_hours},
                             {"office-link-down-hours", s.office_link_down_hours},
                             {"printer-per-hour", s.printer_per_hour},
                             {"pickup-days", s.pickup_days},
                             {"pickup-per-hour", s.pickup_per_hour}}) {
    if (!(value > 0) || !std::isfinite(value)) return Bad(knob, "must be a positive number");
  }
  if (!(s.central_hours >= 0)) return Bad("central-hours", "must not be negative");
  if (!(s.suket_after_days >= 0)) return Bad("suket-after-days", "must not be negative");
  if (!(s.spoil_rate >= 0 && s.spoil_rate < 0.5)) return Bad("spoil-rate", "must be at least 0 and below 0.5");
  if (s.lead_days < 1) return Bad("lead-days", "must be positive");
  for (const Window& w : s.maintenance) {
    if (!(w.start_day >= 0) || !(w.days > 0)) return Bad("maintenance", "windows need a start day >= 0 and a positive length");
  }
  for (const Shipment& shipment : s.shipments) {
    if (shipment.day < 0 || shipment.count < 0) return Bad("shipment", "needs a day >= 0 and a count >= 0");
  }
  return Status::Ok();
}

double Percentile(const ModeResult& result, double p) {
  const std::vector<double>& w = result.wait_days;
  if (w.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * w.size()));
  return w[std::clamp<size_t>(rank, 1, w.size()) - 1];
}

StatusOr<Result> Simulate(const Scenario& scenario, const RegionRegistry& regions, const ProgressFn& progress) {
  if (Status status = Validate(scenario, regions); !status.ok()) return status;
  Result result;
  result.scenario = scenario;
  result.regency_name = regions.Find(scenario.regency)->name;
  result.population = regions.PopulationOf(scenario.regency)->total;

  Scenario& s = result.scenario;
  const double daily_rate = result.population * (1.0 / s.cohort_years + s.replacement_rate + s.move_rate) / 365;
  if (s.backlog < 0) {
    // The blanks planner's population model: backlog_months of the cohort turning 17.
    blanks::PopulationModel model;
    s.backlog = std::llround(result.population / s.cohort_years * model.backlog_months / 12);
  }
  if (s.shipments.empty()) s.shipments.push_back({0, s.backlog + blanks::NeedDuringLead(daily_rate, s.lead_days)});
  result.backlog = s.backlog;

  const Draws draws(s.seed);
  const Inputs inputs = Generate(s, result.population, s.backlog, draws);
  result.need = s.backlog + blanks::NeedDuringLead(daily_rate, s.lead_days);
  result.online = Run(s, inputs, draws, Mode::kOnlineOnly).Go(progress);
  result.offline = Run(s, inputs, draws, Mode::kOfflineFirst).Go(progress);
  return result;
}

}  // namespace ektp::sim
