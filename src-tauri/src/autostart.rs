//! Start at login. On Linux the app writes its XDG autostart entry itself, in
//! `$XDG_CONFIG_HOME/autostart` (`~/.config/autostart` when that is unset), which is where
//! desktop sessions look for it: tauri-plugin-autostart (through auto-launch 0.6) always
//! writes under `~/.config`, so for anyone with `XDG_CONFIG_HOME` set its entry would never
//! start anything. macOS and Windows keep the plugin's launcher (launch agent, registry).
//! The commands call `ManagerExt::autolaunch` on every platform.

#[cfg(not(target_os = "linux"))]
pub use tauri_plugin_autostart::ManagerExt;

#[cfg(target_os = "linux")]
pub use xdg::{Launcher, ManagerExt, XdgAutostart, desktop_entry};

#[cfg(target_os = "linux")]
mod xdg {
    use std::ffi::OsString;
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};

    use tauri::{Manager, Runtime};

    /// `app.autolaunch()`, as tauri-plugin-autostart spells it elsewhere.
    pub trait ManagerExt<R: Runtime> {
        fn autolaunch(&self) -> Launcher;
    }

    impl<R: Runtime, T: Manager<R>> ManagerExt<R> for T {
        fn autolaunch(&self) -> Launcher {
            // An AppImage is started through its own file, not the binary unpacked from it.
            let exec = self
                .env()
                .appimage
                .map(PathBuf::from)
                .map_or_else(std::env::current_exe, Ok);
            Launcher(exec.and_then(|exec| {
                XdgAutostart::locate(
                    std::env::var_os("XDG_CONFIG_HOME"),
                    std::env::var_os("HOME").map(PathBuf::from),
                    &self.package_info().name,
                    exec,
                )
            }))
        }
    }

    /// The entry for this app, or why it has no place (no home folder).
    pub struct Launcher(io::Result<XdgAutostart>);

    impl Launcher {
        pub fn enable(&self) -> io::Result<()> {
            self.entry()?.enable()
        }

        pub fn disable(&self) -> io::Result<()> {
            self.entry()?.disable()
        }

        pub fn is_enabled(&self) -> io::Result<bool> {
            self.entry()?.is_enabled()
        }

        fn entry(&self) -> io::Result<&XdgAutostart> {
            self.0
                .as_ref()
                .map_err(|e| io::Error::new(e.kind(), e.to_string()))
        }
    }

    /// One `.desktop` file in the XDG autostart folder that starts `exec`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct XdgAutostart {
        pub file: PathBuf,
        name: String,
        exec: PathBuf,
    }

    impl XdgAutostart {
        /// The XDG Base Directory rule: `$XDG_CONFIG_HOME` when it is an absolute path, else
        /// `$HOME/.config`. The file is named after the app, as the plugin named it, so an entry
        /// it wrote before is the same file.
        pub fn locate(
            config_home: Option<OsString>,
            home: Option<PathBuf>,
            name: &str,
            exec: PathBuf,
        ) -> io::Result<Self> {
            let config = match config_home.map(PathBuf::from) {
                Some(dir) if dir.is_absolute() => dir,
                _ => home
                    .filter(|h| h.is_absolute())
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::NotFound,
                            "neither XDG_CONFIG_HOME nor HOME names a folder",
                        )
                    })?
                    .join(".config"),
            };
            Ok(Self {
                file: config.join("autostart").join(format!("{name}.desktop")),
                name: name.to_string(),
                exec,
            })
        }

        /// Writes the entry atomically (temp file + rename).
        pub fn enable(&self) -> io::Result<()> {
            let text = desktop_entry(&self.name, &self.exec)?;
            let dir = self.file.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".{}.desktop.tmp", self.name));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.file)
        }

        /// Removes the entry; an entry that is already gone is fine.
        pub fn disable(&self) -> io::Result<()> {
            match std::fs::remove_file(&self.file) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        }

        pub fn is_enabled(&self) -> io::Result<bool> {
            self.file.try_exists()
        }
    }

    /// The Desktop Entry Specification's autostart entry: the program path quoted as one
    /// argument. Inside the quotes `"`, `` ` ``, `$` and `\` take a backslash, and that
    /// backslash is escaped again because `Exec` is a string value (so `$` is written `\\$`
    /// and `\` four times); `%` is doubled. A path that is not UTF-8 or holds a line break
    /// can't be written.
    pub fn desktop_entry(name: &str, exec: &Path) -> io::Result<String> {
        let path = exec
            .to_str()
            .filter(|p| !p.contains(['\n', '\r']))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the program path {exec:?} can't go in a .desktop file"),
                )
            })?;
        let mut quoted = String::from("\"");
        for c in path.chars() {
            match c {
                '"' | '`' | '$' => quoted.extend(['\\', '\\', c]),
                '\\' => quoted.push_str("\\\\\\\\"),
                '%' => quoted.push_str("%%"),
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        Ok(format!(
            "[Desktop Entry]\n\
             Type=Application\n\
             Name={name}\n\
             Comment=Start {name} at login\n\
             Exec={quoted}\n\
             Terminal=false\n\
             StartupNotify=false\n\
             X-GNOME-Autostart-enabled=true\n"
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_folder_follows_xdg_config_home_else_home() {
            let exe = PathBuf::from("/usr/bin/lanyard-app");
            let at = |xdg: Option<&str>, home: Option<&str>| {
                XdgAutostart::locate(
                    xdg.map(OsString::from),
                    home.map(PathBuf::from),
                    "Lanyard",
                    exe.clone(),
                )
                .map(|a| a.file)
            };
            assert_eq!(
                at(Some("/tmp/cfg"), Some("/home/ada")).unwrap(),
                PathBuf::from("/tmp/cfg/autostart/Lanyard.desktop")
            );
            // Empty or relative: ignored, as the spec says.
            for xdg in [None, Some(""), Some("relative/cfg")] {
                assert_eq!(
                    at(xdg, Some("/home/ada")).unwrap(),
                    PathBuf::from("/home/ada/.config/autostart/Lanyard.desktop"),
                    "{xdg:?}"
                );
            }
            assert!(at(None, None).is_err());
        }

        #[test]
        fn the_entry_quotes_the_program_path() {
            let plain = desktop_entry("Lanyard", Path::new("/usr/bin/lanyard-app")).unwrap();
            assert!(plain.starts_with("[Desktop Entry]\n"), "{plain}");
            assert!(
                plain.contains("\nExec=\"/usr/bin/lanyard-app\"\n"),
                "{plain}"
            );
            assert!(plain.contains("\nName=Lanyard\n"), "{plain}");
            let odd = desktop_entry("Lanyard", Path::new("/opt/My $Apps/100%/\"x\\y")).unwrap();
            assert!(
                odd.contains(r#"Exec="/opt/My \\$Apps/100%%/\\"x\\\\y""#),
                "{odd}"
            );
            assert!(desktop_entry("Lanyard", Path::new("/tmp/a\nExec=evil")).is_err());
        }

        #[test]
        fn enable_writes_the_entry_and_disable_removes_it() {
            let dir = tempfile::tempdir().unwrap();
            let entry = XdgAutostart::locate(
                Some(dir.path().join("cfg").into_os_string()),
                None,
                "Lanyard",
                PathBuf::from("/usr/bin/lanyard-app"),
            )
            .unwrap();
            assert!(!entry.is_enabled().unwrap());
            entry.enable().unwrap();
            assert!(entry.is_enabled().unwrap());
            let text = std::fs::read_to_string(&entry.file).unwrap();
            assert!(text.contains("Exec=\"/usr/bin/lanyard-app\""), "{text}");
            let left: Vec<_> = std::fs::read_dir(entry.file.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(
                left,
                vec![OsString::from("Lanyard.desktop")],
                "no temp file left"
            );
            entry.disable().unwrap();
            assert!(!entry.is_enabled().unwrap());
            entry.disable().unwrap();
        }
    }
}
