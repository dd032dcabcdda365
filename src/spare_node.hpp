// Maps whose keys come and go with each operation (a directory listed for one acquisition, a
// path watched until one hand-off) keep the last node they let go and make the next entry from
// it: its key string and its value keep their heap blocks, so a steady cycle allocates nothing
// for the map. A node is let go only once its value is back to its empty state.
#pragma once

namespace zkr::detail {

/// The entry of `key`, made from `spare` (emptied) when there is none and a spare is kept.
template <class Map>
typename Map::iterator find_or_insert(Map& map, typename Map::node_type& spare,
                                      const typename Map::key_type& key) {
    if (auto it = map.find(key); it != map.end()) {
        return it;
    }
    if (spare.empty()) {
        return map.try_emplace(key).first;
    }
    spare.key() = key;  // within the old key's capacity, mostly
    return map.insert(std::move(spare)).position;
}

/// Takes `it` (whose value is empty) out of `map` and keeps it as the spare.
template <class Map>
void erase_keeping(Map& map, typename Map::node_type& spare, typename Map::iterator it) {
    spare = map.extract(it);
}

}  // namespace zkr::detail
