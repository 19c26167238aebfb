/**
 * The site theme: VitePress's default theme plus the two live demos, registered as global components
 * (`<SamplerGallery />`, `<TrainingPlayground />`). Each demo's code (and tfjs) loads only on its own page.
 */
import type { Theme } from 'vitepress';
import DefaultTheme from 'vitepress/theme';
import { liveDemo } from './live-demo.js';
import './style.css';

const theme: Theme = {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component(
      'SamplerGallery',
      liveDemo('ebm-gallery', () => import('../../demos/gallery.js').then((m) => m.mountGallery)),
    );
    app.component(
      'TrainingPlayground',
      liveDemo('ebm-playground', () => import('../../demos/playground.js').then((m) => m.mountPlayground)),
    );
  },
};

export default theme;
