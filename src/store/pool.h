// A pool of connections to one database, for servers whose handlers run on
// several threads. Connections are opened on demand (with migrations already
// applied by the first) and returned when the lease ends.
//
// Thread-safety: thread-safe. A leased Connection is used by one thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/db.h"

namespace ektp::store {

class ConnectionPool {
 public:
  // Opens (and migrates) the first connection now, so a bad URL fails here.
  static StatusOr<std::unique_ptr<ConnectionPool>> Create(std::string url, Schema schema);

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (connection_) pool_->Return(std::move(connection_));
    }
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // A connection for this thread until the lease ends. kUnavailable if a new
  // one cannot be opened.
  StatusOr<Lease> Acquire();

  const std::string& url() const { return url_; }

 private:
  ConnectionPool(std::string url, Schema schema) : url_(std::move(url)), schema_(schema) {}
  void Return(std::unique_ptr<Connection> connection);

  const std::string url_;
  const Schema schema_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace ektp::store
