#include "store/pool.h"

namespace ektp::store {

StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Create(std::string url, Schema schema) {
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool(std::move(url), schema));
  ASSIGN_OR_RETURN(auto first, Open(pool->url_, schema));
  pool->idle_.push_back(std::move(first));
  return pool;
}

StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
  }
  ASSIGN_OR_RETURN(auto connection, Open(url_, schema_));
  return Lease(this, std::move(connection));
}

void ConnectionPool::Return(std::unique_ptr<Connection> connection) {
  if (connection->in_transaction()) return;  // a broken lease: drop it
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(connection));
}

}  // namespace ektp::store
