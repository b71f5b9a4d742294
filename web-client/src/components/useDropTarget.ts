import { useEffect, useRef, useState, type RefObject } from 'react';

function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
}

/**
 * Makes the conversation pane around `inside` a drop target for files: `dragging` is true while
 * a file is held over it (to show the drop zone); a dropped file goes to `onFile`.
 * @param inside an element inside the pane (`.conversation-pane`)
 * @param onFile gets the first dropped file
 * @param disabled no drops (sending is paused)
 * @returns whether a file is being dragged over the pane
 */
export function useDropTarget(
  inside: RefObject<HTMLElement | null>,
  onFile: (file: File) => void,
  disabled: boolean,
) {
  const [dragging, setDragging] = useState(false);
  const latest = useRef(onFile);
  latest.current = onFile;
  useEffect(() => {
    const pane = inside.current?.closest<HTMLElement>('.conversation-pane');
    if (!pane || disabled) return;
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const file = e.dataTransfer?.files[0];
      if (file) latest.current(file);
    };
    pane.addEventListener('dragenter', enter);
    pane.addEventListener('dragover', over);
    pane.addEventListener('dragleave', leave);
    pane.addEventListener('drop', drop);
    return () => {
      pane.removeEventListener('dragenter', enter);
      pane.removeEventListener('dragover', over);
      pane.removeEventListener('dragleave', leave);
      pane.removeEventListener('drop', drop);
      setDragging(false);
    };
  }, [inside, disabled]);
  return dragging;
}
