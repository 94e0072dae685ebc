/// The engine's version, as `dbs version`, the C ABI and backup metadata report it.
public enum DBSKitVersion {
    public static let string = "0.1.0"
}
