// Everything zkr offers, in one include (as <boost/asio.hpp> does for Asio).
//
// The individual headers remain available for programs that want to include less.
#pragma once

#include <zkr/atomic_long.hpp>
#include <zkr/barrier.hpp>
#include <zkr/blocking.hpp>
#include <zkr/cache_event.hpp>
#include <zkr/children_cache.hpp>
#include <zkr/config.hpp>
#include <zkr/double_barrier.hpp>
#include <zkr/error.hpp>
#include <zkr/group.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/lock.hpp>
#include <zkr/lock_group.hpp>
#include <zkr/lock_queue.hpp>
#include <zkr/log.hpp>
#include <zkr/metrics.hpp>
#include <zkr/multi_lock.hpp>
#include <zkr/mutex.hpp>
#include <zkr/names.hpp>
#include <zkr/node_cache.hpp>
#include <zkr/observer.hpp>
#include <zkr/op.hpp>
#include <zkr/path.hpp>
#include <zkr/persistent_node.hpp>
#include <zkr/queue.hpp>
#include <zkr/revoke.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/sequencer.hpp>
#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/service_instance.hpp>
#include <zkr/service_provider.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_count.hpp>
#include <zkr/shared_mutex.hpp>
#include <zkr/tls.hpp>
#include <zkr/tree_cache.hpp>
#include <zkr/two_phase_commit.hpp>
#include <zkr/version.hpp>
#include <zkr/watch.hpp>
#include <zkr/znode.hpp>
