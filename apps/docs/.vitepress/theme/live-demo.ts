/**
 * A Vue component that mounts a framework-free demo (`mount(el) → unmount`) into its element on the client only
 * (the demos need a browser; the static build renders the empty container).
 */
import { defineComponent, h, onBeforeUnmount, onMounted, ref } from 'vue';

/** A demo: draws into `el`, returns a function that stops it and releases its tensors. */
export type MountDemo = (el: HTMLElement) => Promise<() => void>;

export function liveDemo(className: string, load: () => Promise<MountDemo>) {
  return defineComponent({
    name: className,
    setup() {
      const root = ref<HTMLElement | null>(null);
      let unmount: (() => void) | undefined;
      let gone = false;
      onMounted(async () => {
        const mount = await load();
        if (gone || root.value === null) return;
        unmount = await mount(root.value);
        if (gone) unmount();
      });
      onBeforeUnmount(() => {
        gone = true;
        unmount?.();
      });
      return () => h('div', { ref: root, class: ['ebm-demo', className] }, 'Loading the demo…');
    },
  });
}
