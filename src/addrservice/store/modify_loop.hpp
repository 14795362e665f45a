#pragma once

#include "addrservice/store/store.hpp"
#include "addrservice/task.hpp"

#include <functional>
#include <string>

namespace addrservice {

/// How a store reads the entry that modify() changes, and stores the change only while the entry's ETag
/// is still the one read (replace_if's results).
using ReadEntry = std::function<Task<EntryPtr>()>;
using WriteIfUnchanged = std::function<Task<WriteResult>(std::string read_etag, EntryPtr changed)>;

/// What modify() does once it has the entry's turn: reads, asks change, writes if nobody wrote in between,
/// and again on the entry as it is then, at most max_modify_attempts times.
Task<ModifyResult> modify_in_turn(Change change, ReadEntry read, WriteIfUnchanged write);

}  // namespace addrservice
