"""Place search without GPS: towns, counties, needs, pinyin and near-misses, where-am-I, the mainland outline. Imports geo and layers' top level."""
