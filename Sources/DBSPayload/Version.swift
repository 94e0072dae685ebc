/// The engine's version, as `dbs version`, the C ABI and backup metadata report it.
/// It lives in the payload module, the lowest that records it (the metadata's
/// `tool_version`); DBSKit re-exports it.
public enum DBSKitVersion {
    public static let string = "0.1.0"
}
