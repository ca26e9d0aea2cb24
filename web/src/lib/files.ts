// Files from a directory picker or a drop, with paths relative to the dropped folder.
export interface PickedFile {
  path: string;
  file: File;
}

/** Files of an <input webkitdirectory>: the first path component is the folder itself. */
export function fromInput(list: FileList): PickedFile[] {
  return [...list].map((file) => {
    const rel = (file as any).webkitRelativePath || file.name;
    const parts = rel.split("/");
    return { path: parts.length > 1 ? parts.slice(1).join("/") : rel, file };
  });
}

/** Files of a drop: folders are walked, and paths are taken below the dropped folder. */
export async function fromDrop(items: DataTransferItemList): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const entries = [...items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const single = entries.length === 1 && entries[0].isDirectory;
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ path: prefix + entry.name, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const child of batch) await walk(child, prefix + entry.name + "/");
      }
    }
  };
  for (const entry of entries) await walk(entry, "");
  if (single) {
    const cut = entries[0].name.length + 1;
    return out.map((f) => ({ path: f.path.slice(cut), file: f.file }));
  }
  return out;
}
